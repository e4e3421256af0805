import type { Command } from 'commander';
import type { BackendProbe, CliCommand, Engine } from '@xlt/plugin-api';

/** Each backend's probe by id: whether it can run here, and why not. */
export async function probeBackends(engine: Engine): Promise<Map<string, BackendProbe>> {
  const out = new Map<string, BackendProbe>();
  for (const backend of engine.backends.all()) {
    try {
      out.set(backend.id, await backend.probe());
    } catch (e) {
      out.set(backend.id, { available: false, detail: `probe failed: ${(e as Error).message}` });
    }
  }
  return out;
}

/**
 * Lines of `xlt plugins`: each extension point with one line per plugin. With `probes`, each backend gets a second
 * line saying whether it is available here and why (or why not), as `backend: auto` sees it.
 */
export function listPlugins(engine: Engine, probes?: ReadonlyMap<string, BackendProbe>): string[] {
  const lines: string[] = [];
  for (const { kind, plugins } of engine.extensionPoints()) {
    lines.push(`${kind}s:`.replace(/ys:$/, 'ies:'));
    if (plugins.length === 0) lines.push('  (none)');
    const width = Math.max(0, ...plugins.map((p) => p.id.length));
    for (const p of plugins) {
      lines.push(`  ${p.id.padEnd(width)}  ${p.description}`);
      const probe = kind === 'backend' ? probes?.get(p.id) : undefined;
      if (probe) lines.push(`  ${''.padEnd(width)}  ${probe.available ? 'available' : 'unavailable'}: ${probe.detail}`);
    }
  }
  return lines;
}

/** `xlt plugins`: lists every registered task, strategy, backend, tokenizer, encoder, trainer and sink. */
export const pluginsCommand: CliCommand = {
  id: 'plugins',
  description: 'List every registered task, averaging strategy, backend (with whether it is available here), tokenizer, encoder, trainer and results sink',
  configure(command: Command, engine: Engine) {
    command.option('--json', 'print as JSON').action(async (opts: { json?: boolean }) => {
      const probes = await probeBackends(engine);
      if (opts.json) {
        const out = Object.fromEntries(
          engine.extensionPoints().map(({ kind, plugins }) => [kind, plugins.map((p) => ({ id: p.id, description: p.description, ...(kind === 'backend' ? probes.get(p.id) : {}) }))]),
        );
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      } else {
        process.stdout.write(`${listPlugins(engine, probes).join('\n')}\n`);
      }
    });
  },
};
