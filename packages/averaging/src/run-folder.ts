import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import {
  InputError,
  SAFETENSORS_FILE,
  SAFETENSORS_INDEX_FILE,
  openCheckpoint,
  type CheckpointInfo,
  type Metrics,
  type RunInfo,
} from '@xlt/plugin-api';

/**
 * `__metadata__` keys xlt reads from a checkpoint's safetensors header: `step`, `epoch`, `total_steps`,
 * `source_dev_<metric>` (e.g. `source_dev_f1`) and `target_dev_<language>_<metric>` (oracle only).
 */
export const CHECKPOINT_METADATA_KEYS = ['step', 'epoch', 'total_steps', 'source_dev_<metric>', 'target_dev_<language>_<metric>'] as const;

function isCheckpointFolder(entries: readonly string[]): boolean {
  return entries.includes(SAFETENSORS_FILE) || entries.includes(SAFETENSORS_INDEX_FILE);
}

/** The last integer in a name (`checkpoint-1500` → 1500), for ordering by step. */
export function stepFromName(name: string): number | undefined {
  const m = /(\d+)(?!.*\d)/.exec(name);
  return m ? Number(m[1]) : undefined;
}

function number(value: string | undefined, file: string, key: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) {
    throw new InputError([{ file, path: `__metadata__[${JSON.stringify(key)}]`, expected: 'a number', found: JSON.stringify(value) }]);
  }
  return n;
}

/**
 * Describes one checkpoint (file or HF folder) from its safetensors `__metadata__` (see
 * {@link CHECKPOINT_METADATA_KEYS}); the step falls back to the number in its name, then to `fallbackStep`.
 */
export async function describeCheckpoint(path: string, run: string, fallbackStep: number): Promise<CheckpointInfo> {
  const ckpt = await openCheckpoint(path);
  const meta = ckpt.metadata;
  const file = ckpt.files[0]!.path;
  await ckpt.close();
  const sourceDev: Metrics = {};
  const targetDev: Record<string, Metrics> = {};
  for (const [key, value] of Object.entries(meta)) {
    if (key.startsWith('source_dev_')) sourceDev[key.slice('source_dev_'.length)] = number(value, file, key)!;
    const target = /^target_dev_([^_]+)_(.+)$/.exec(key);
    if (target) (targetDev[target[1]!] ??= {})[target[2]!] = number(value, file, key)!;
  }
  const name = basename(path).replace(/\.safetensors$/, '');
  const epoch = number(meta.epoch, file, 'epoch');
  const totalSteps = number(meta.total_steps, file, 'total_steps');
  return {
    path,
    run,
    step: number(meta.step, file, 'step') ?? stepFromName(name) ?? fallbackStep,
    ...(epoch !== undefined ? { epoch } : {}),
    ...(totalSteps !== undefined ? { totalSteps } : {}),
    ...(Object.keys(sourceDev).length ? { sourceDev } : {}),
    ...(Object.keys(targetDev).length ? { targetDev } : {}),
  };
}

/**
 * Reads a run folder: its `checkpoint-*` subfolders (HF Trainer layout) or, failing that, its `*.safetensors`
 * files, ordered by step (metadata `step`, else the number in the name). The folder name is the run id.
 */
export async function readRunFolder(folder: string): Promise<RunInfo> {
  const entries = (await readdir(folder)).sort();
  const id = basename(resolve(folder));
  const subfolders: string[] = [];
  for (const e of entries) {
    if (e.startsWith('checkpoint-') && (await stat(join(folder, e))).isDirectory()) subfolders.push(join(folder, e));
  }
  const paths = subfolders.length > 0 ? subfolders : entries.filter((e) => e.endsWith('.safetensors')).map((e) => join(folder, e));
  if (paths.length === 0) {
    throw new InputError([{ file: folder, expected: 'a run folder with checkpoint-* subfolders or *.safetensors checkpoints', found: entries.length ? entries.slice(0, 5).join(', ') : 'an empty folder' }]);
  }
  const checkpoints = await Promise.all(paths.map((p, i) => describeCheckpoint(p, id, i)));
  checkpoints.sort((a, b) => a.step - b.step || (a.path < b.path ? -1 : 1));
  return { id, checkpoints };
}

/** Expands `*` and `?` in each path segment (no `**`); a pattern matching nothing is an error. */
export async function expandGlob(pattern: string): Promise<string[]> {
  if (!/[*?]/.test(pattern)) return [pattern];
  const absolute = pattern.startsWith('/');
  const segments = pattern.split('/').filter((s, i) => s !== '' || i === 0);
  let current = [absolute ? '/' : '.'];
  for (const segment of absolute ? segments.slice(1) : segments) {
    if (!/[*?]/.test(segment)) {
      current = current.map((c) => join(c, segment)).filter((p) => existsSync(p));
      continue;
    }
    const re = new RegExp(`^${segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
    const next: string[] = [];
    for (const c of current) {
      let names: string[] = [];
      try {
        names = await readdir(c);
      } catch {
        continue;
      }
      for (const n of names.sort()) if (re.test(n) && !n.startsWith('.')) next.push(c === '.' ? n : join(c, n));
    }
    current = next;
  }
  if (current.length === 0) throw new InputError([{ file: pattern, expected: 'a glob pattern matching checkpoints or run folders', found: 'no match' }]);
  return current;
}

/**
 * Turns command-line inputs (checkpoint files, HF checkpoint folders, run folders or globs of these) into runs:
 * each run folder is a run; loose checkpoints are grouped into one run per parent folder, in the order given.
 */
export async function runsFromInputs(inputs: readonly string[]): Promise<RunInfo[]> {
  const runs: RunInfo[] = [];
  const loose = new Map<string, string[]>();
  for (const input of inputs) {
    for (const path of await expandGlob(input)) {
      let isDir: boolean;
      try {
        isDir = (await stat(path)).isDirectory();
      } catch (error) {
        throw new InputError([{ file: path, expected: 'a checkpoint file, checkpoint folder or run folder', found: (error as NodeJS.ErrnoException).code ?? String(error) }]);
      }
      if (isDir && !isCheckpointFolder(await readdir(path))) runs.push(await readRunFolder(path));
      else {
        const parent = dirname(resolve(path));
        loose.set(parent, [...(loose.get(parent) ?? []), path]);
      }
    }
  }
  for (const [parent, paths] of loose) {
    const id = basename(parent);
    const checkpoints = await Promise.all(paths.map((p, i) => describeCheckpoint(p, id, i)));
    runs.push({ id, checkpoints });
  }
  return runs;
}
