import { XltError, type CheckpointInfo, type RunInfo, type WeightedCheckpoint } from '@xlt/plugin-api';
import { z } from 'zod';

/** Equal weights over the given checkpoints. */
export function uniform(checkpoints: readonly CheckpointInfo[]): WeightedCheckpoint[] {
  return checkpoints.map((checkpoint) => ({ checkpoint, weight: 1 / checkpoints.length }));
}

/** The single run of a `per-run` strategy; an error naming the strategy otherwise. */
export function singleRun(runs: readonly RunInfo[], strategy: string): RunInfo {
  if (runs.length !== 1) throw new XltError(`Strategy "${strategy}" plans one run at a time; it was given ${runs.length} runs`);
  return nonEmpty(runs[0]!, strategy);
}

/** The run itself when it has checkpoints; an error naming run and strategy otherwise. */
export function nonEmpty(run: RunInfo, strategy: string): RunInfo {
  if (run.checkpoints.length === 0) throw new XltError(`Strategy "${strategy}": run "${run.id}" has no checkpoints`);
  return run;
}

/** At least one run; an error naming the strategy otherwise. */
export function someRuns(runs: readonly RunInfo[], strategy: string): readonly RunInfo[] {
  if (runs.length === 0) throw new XltError(`Strategy "${strategy}" needs at least one run`);
  for (const run of runs) nonEmpty(run, strategy);
  return runs;
}

/**
 * Options that skip the start of training (warm-up) or keep only the tail of a run's checkpoints. Applied in the
 * order `fromStep`, `fromFraction`, `lastK`.
 */
export const checkpointFilterShape = {
  /** Keep the last K checkpoints. */
  lastK: z.number().int().positive().optional().describe('keep only the last K checkpoints of each run'),
  /** Keep checkpoints saved at or after this step. */
  fromStep: z.number().int().nonnegative().optional().describe('keep checkpoints saved at or after this step'),
  /** Keep checkpoints saved at or after this fraction of the run's total steps. */
  fromFraction: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe('keep checkpoints at or after this fraction of training (total steps, else the last checkpoint step)'),
};

/** Parsed {@link checkpointFilterShape} options. */
export interface CheckpointFilter {
  readonly lastK?: number;
  readonly fromStep?: number;
  readonly fromFraction?: number;
}

/** The checkpoints of `run` that pass the filter, in step order; an error when none does. */
export function filterCheckpoints(run: RunInfo, filter: CheckpointFilter, strategy: string): CheckpointInfo[] {
  let kept = [...run.checkpoints];
  if (filter.fromStep !== undefined) kept = kept.filter((c) => c.step >= filter.fromStep!);
  if (filter.fromFraction !== undefined) {
    const total = run.checkpoints.at(-1)!.totalSteps ?? Math.max(...run.checkpoints.map((c) => c.step));
    kept = kept.filter((c) => c.step >= filter.fromFraction! * total);
  }
  if (filter.lastK !== undefined) kept = kept.slice(-filter.lastK);
  if (kept.length === 0) {
    throw new XltError(
      `Strategy "${strategy}": no checkpoint of run "${run.id}" (steps ${run.checkpoints.map((c) => c.step).join(', ')}) passes ${JSON.stringify(filter)}`,
    );
  }
  return kept;
}

/** The source-dev score of a checkpoint for `metric`; an error naming the checkpoint when it was not measured. */
export function sourceDevScore(checkpoint: CheckpointInfo, metric: string, strategy: string): number {
  const value = checkpoint.sourceDev?.[metric];
  if (typeof value !== 'number' || Number.isNaN(value)) {
    const has = Object.keys(checkpoint.sourceDev ?? {});
    throw new XltError(
      `Strategy "${strategy}" ranks by source-dev "${metric}", but checkpoint ${checkpoint.path} (run "${checkpoint.run}", step ${checkpoint.step}) ` +
        (has.length ? `has only ${has.join(', ')}` : 'has no source-dev score'),
    );
  }
  return value;
}

/** The checkpoint with the highest score; ties go to the earlier checkpoint (fewer steps, same model quality). */
export function argmax(checkpoints: readonly CheckpointInfo[], score: (c: CheckpointInfo) => number): CheckpointInfo {
  let best = checkpoints[0]!;
  let bestScore = score(best);
  for (const c of checkpoints.slice(1)) {
    const s = score(c);
    if (s > bestScore) {
      best = c;
      bestScore = s;
    }
  }
  return best;
}
