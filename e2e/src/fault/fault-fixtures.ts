import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { repoRoot } from '../pack.js';
import { xlt } from '../run-xlt.js';

/** One result row of `results.json`, the part that must not change when a run is interrupted and resumed. */
export interface ResultRow {
  readonly strategy: string;
  readonly run: string;
  readonly language: string;
  readonly metric: string;
  readonly value: number;
}

/** The quickstart's experiment, generated and run once without faults: the reference every faulty run must reach. */
export interface ReferenceExperiment {
  /** The quickstart folder: `experiment.json`, its data and model. */
  readonly folder: string;
  readonly config: string;
  /** Rows of the uninterrupted run's results.json. */
  readonly rows: readonly ResultRow[];
  /**
   * sha256 of every checkpoint, head and averaged model of the uninterrupted run, by path relative to its output
   * folder (for averaged models, of the tensor bytes only: their header names the inputs' paths).
   */
  readonly weights: ReadonlyMap<string, string>;
}

/** Runs `xlt quickstart --out <folder>` (a synthetic POS benchmark, a tiny encoder, 4 runs, every strategy: ~15 s). */
export async function referenceExperiment(folder: string): Promise<ReferenceExperiment> {
  const outcome = await xlt(['quickstart', '--out', folder], 600_000);
  if (outcome.code !== 0) throw new Error(`xlt quickstart failed (${outcome.code}):\n${outcome.stderr.slice(-3000)}`);
  const results = join(folder, 'results');
  return { folder, config: join(folder, 'experiment.json'), rows: await resultRows(results), weights: await weightHashes(results) };
}

/** The rows of `<out>/results.json`, sorted so two runs compare regardless of order. */
export async function resultRows(out: string): Promise<ResultRow[]> {
  const json = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as { records: ResultRow[] };
  return json.records
    .map(({ strategy, run, language, metric, value }) => ({ strategy, run, language, metric, value }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/**
 * sha256 of every `.safetensors` file under `out` by relative path: the whole file for checkpoints and heads, the
 * tensor bytes after the header for averaged models (`models/`), whose header metadata names their inputs' paths.
 */
export async function weightHashes(out: string): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      // Scratch averages (greedy soup, CA over the first k) of a killed process are not results: `sweepDebris`
      // removes them once an hour old, so a resumed run right after a kill may still have some.
      if (e.isDirectory()) {
        if (!(e.name === '.scratch' && dir.endsWith('models'))) await walk(path);
      }
      else if (e.name.endsWith('.safetensors')) {
        const bytes = await readFile(path);
        const data = relative(out, path).startsWith('models/') ? bytes.subarray(8 + Number(bytes.readBigUInt64LE(0))) : bytes;
        hashes.set(relative(out, path), createHash('sha256').update(data).digest('hex'));
      }
    }
  };
  await walk(out);
  return new Map([...hashes].sort(([a], [b]) => a.localeCompare(b)));
}

/** Every file or folder under `dir` whose name is an atomic write's temporary (`.<name>.<pid>.<hex>.tmp`). */
export async function temporaries(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (/^\..+\.\d+\.[0-9a-f]{8}\.tmp$/.test(e.name)) found.push(join(d, e.name));
      else if (e.isDirectory()) await walk(join(d, e.name));
    }
  };
  await walk(dir);
  return found;
}

/** `xlt <args>` as a child process the test can kill; stderr is collected. */
export function startXlt(args: readonly string[]): { child: ChildProcess; exited: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, [join('packages', 'core', 'bin', 'xlt.js'), ...args], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ? null : code)));
  return { child, exited, stderr: () => err };
}

/** A JavaScript stack trace in CLI output: what a user must never see for a fault that is not a bug. */
export const STACK_LINE = /\n\s+at .+:\d+:\d+\)?/;
