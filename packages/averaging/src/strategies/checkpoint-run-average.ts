import type { AveragingStrategy, RunInfo, WeightedCheckpoint } from '@xlt/plugin-api';
import { z } from 'zod';
import { checkpointFilterShape, filterCheckpoints, someRuns } from './plan-helpers.js';

const schema = z.strictObject({
  ...checkpointFilterShape,
  weighting: z
    .enum(['checkpoint', 'run'])
    .default('checkpoint')
    .describe('"checkpoint": every checkpoint weighs the same; "run": every run weighs the same, split over its checkpoints'),
});

/** `checkpoint-run-average` (CA+RA): the mean of all (filtered) checkpoints of all runs. */
export class CheckpointRunAverageStrategy implements AveragingStrategy<z.input<typeof schema>> {
  readonly id = 'checkpoint-run-average';
  readonly description = 'CA+RA: mean of all checkpoints of all runs (options: lastK, fromStep, fromFraction, weighting)';
  readonly scope = 'across-runs' as const;
  readonly oracle = false;
  readonly optionsSchema = schema;

  async plan(runs: readonly RunInfo[], options: z.input<typeof schema>): Promise<WeightedCheckpoint[]> {
    const perRun = someRuns(runs, this.id).map((r) => filterCheckpoints(r, options, this.id));
    const total = perRun.reduce((n, cs) => n + cs.length, 0);
    return perRun.flatMap((cs) =>
      cs.map((checkpoint) => ({ checkpoint, weight: options.weighting === 'run' ? 1 / (perRun.length * cs.length) : 1 / total })),
    );
  }
}
