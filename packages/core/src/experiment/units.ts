import { existsSync } from 'node:fs';
import { XltError, type CheckpointInfo } from '@xlt/plugin-api';
import type { ExperimentContext } from './experiment-context.js';
import { GridProgress } from './progress.js';
import { ensureRun, finishedRun } from './train-step.js';

/**
 * Environment variables through which schedulers give each task of an array its index: SLURM job arrays,
 * Kubernetes Indexed Jobs, AWS Batch array jobs.
 */
export const ARRAY_INDEX_VARIABLES: readonly string[] = ['SLURM_ARRAY_TASK_ID', 'JOB_COMPLETION_INDEX', 'AWS_BATCH_JOB_ARRAY_INDEX'];

/** One unit of an experiment: a run of the grid, addressed by its stable index in the plan. */
export interface ExperimentUnit {
  readonly index: number;
  readonly key: string;
  /** `done` (its `done.json` exists), `running` (another process holds its lock) or `pending`. */
  readonly status: 'done' | 'running' | 'pending';
}

/** Which units a process does: given by `--index`, `--shard i/n`, or the scheduler's array index. */
export interface UnitSelection {
  readonly index?: number;
  /** `i/n`: the units whose index is `i` modulo `n` (0-based `i`). */
  readonly shard?: string;
}

/**
 * The unit indices a process should do, or `undefined` for the whole experiment: `--index`, else `--shard`, else
 * the first array-index variable set in `env` (so the same `xlt run` line serves every task of an array).
 */
export function selectedUnits(selection: UnitSelection, count: number, env: NodeJS.ProcessEnv = process.env): number[] | undefined {
  const check = (index: number, from: string) => {
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      throw new XltError(`${from} is ${index}, but the experiment has ${count} units (indices 0 to ${count - 1}; \`xlt plan\` lists them).`);
    }
    return index;
  };
  if (selection.index !== undefined) return [check(selection.index, '--index')];
  if (selection.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(selection.shard);
    if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw new XltError(`--shard must be i/n with 0 <= i < n (e.g. 0/4), found "${selection.shard}".`);
    const [i, n] = [Number(m[1]), Number(m[2])];
    return Array.from({ length: count }, (_, k) => k).filter((k) => k % n === i);
  }
  for (const name of ARRAY_INDEX_VARIABLES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (!/^\d+$/.test(value)) throw new XltError(`${name} is "${value}", not an array index.`);
    return [check(Number(value), name)];
  }
  return undefined;
}

/** The units of an experiment with their status, in plan order. */
export async function planUnits(ctx: ExperimentContext): Promise<ExperimentUnit[]> {
  return Promise.all(
    ctx.runs.map(async (run, index) => {
      const done = (await finishedRun(ctx, run.key)) !== undefined;
      const locked = existsSync(ctx.layout.lockFile(`run=${run.key}`));
      return { index, key: run.key, status: done ? 'done' : locked ? 'running' : 'pending' } as const;
    }),
  );
}

/** What one process did with its units. */
export interface UnitOutcome {
  readonly index: number;
  readonly key: string;
  /** `trained` (or resumed), `done` (already finished), `locked` (another process is training it). */
  readonly result: 'trained' | 'done' | 'locked';
  readonly checkpoints?: readonly CheckpointInfo[];
  readonly message?: string;
}

/**
 * Does the given units and nothing else: each run is trained (resuming from its newest checkpoint) unless it is
 * finished; a run another process holds is reported, not waited for, so that a duplicate array task ends cleanly.
 */
export async function runUnits(ctx: ExperimentContext, indices: readonly number[], stderr: (text: string) => void): Promise<UnitOutcome[]> {
  const progress = new GridProgress(indices.length, stderr);
  const outcomes: UnitOutcome[] = [];
  for (const index of indices) {
    const run = ctx.runs[index]!;
    if (await finishedRun(ctx, run.key)) {
      progress.runDone(run.key, true);
      outcomes.push({ index, key: run.key, result: 'done' });
      continue;
    }
    try {
      let finishedBefore = false;
      const checkpoints = await ensureRun(ctx, run, progress, { onFinishedBefore: () => (finishedBefore = true) });
      outcomes.push({ index, key: run.key, result: finishedBefore ? 'done' : 'trained', checkpoints });
    } catch (error) {
      if (!(error instanceof XltError) || !/ is being done by /.test(error.message)) throw error;
      stderr(`[xlt] unit ${index}: ${error.message}\n`);
      outcomes.push({ index, key: run.key, result: 'locked', message: error.message });
    }
  }
  return outcomes;
}

/** Refuses to aggregate while units are unfinished, naming them and the command that finishes each. */
export async function requireAllUnits(ctx: ExperimentContext): Promise<void> {
  const missing = (await planUnits(ctx)).filter((u) => u.status !== 'done');
  if (missing.length === 0) return;
  const lines = missing.map((u) => `  - unit ${u.index} (${u.key}): ${u.status === 'running' ? 'being trained' : 'not trained'}`);
  throw new XltError(
    `${missing.length} of ${ctx.runs.length} units are not finished, so averaging and evaluation cannot start:\n${lines.join('\n')}\n` +
      `Finish them with \`xlt run ${ctx.configFile} --index <i>\` (or let the array job finish), then aggregate again.`,
  );
}
