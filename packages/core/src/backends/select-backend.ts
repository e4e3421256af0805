import { UnknownPluginError, XltError, type BackendProbe, type TrainingBackend } from '@xlt/plugin-api';

/** The backend chosen for a run, with the line to print at start. */
export interface BackendChoice {
  readonly backend: TrainingBackend;
  readonly probe: BackendProbe;
  /** One line such as `backend: tfjs-wasm (TF.js wasm backend ...); skipped: tfjs-node-gpu (not installed)`. */
  readonly line: string;
}

/** Anything that lists backends: the engine's registry or a plain array. */
export type BackendSource = { all(): TrainingBackend[] } | readonly TrainingBackend[];

/**
 * Picks the backend: the one named by `requested` (an error when it is unknown or unavailable, with the reason),
 * else the available one with the highest priority. Probes run one after another, highest priority first, and
 * stop at the first available one.
 */
export async function selectBackend(source: BackendSource, requested?: string): Promise<BackendChoice> {
  const backends = [...(Array.isArray(source) ? source : (source as { all(): TrainingBackend[] }).all())].sort((a, b) => b.priority - a.priority);
  if (requested) {
    const backend = backends.find((b) => b.id === requested);
    if (!backend) {
      const known = backends.map((b) => b.id).sort();
      throw new UnknownPluginError(`Unknown backend "${requested}". ` + (known.length ? `Known backend ids: ${known.join(', ')}.` : 'No backend plugin is registered.'));
    }
    const probe = await backend.probe();
    if (!probe.available) throw new XltError(`Backend "${requested}" is not available: ${probe.detail}.`);
    return { backend, probe, line: `backend: ${backend.id} (${probe.detail}), as requested` };
  }
  const skipped: string[] = [];
  for (const backend of backends) {
    const probe = await backend.probe();
    if (probe.available) {
      return { backend, probe, line: `backend: ${backend.id} (${probe.detail})${skipped.length ? `; unavailable: ${skipped.join(', ')}` : ''}` };
    }
    skipped.push(`${backend.id} (${probe.detail})`);
  }
  throw new XltError(backends.length ? `No backend is available: ${skipped.join('; ')}.` : 'No backend plugin is registered.');
}
