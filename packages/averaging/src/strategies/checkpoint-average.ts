import type { AveragingStrategy, RunInfo, WeightedCheckpoint } from '@xlt/plugin-api';
import { z } from 'zod';
import { checkpointFilterShape, filterCheckpoints, singleRun, uniform } from './plan-helpers.js';

const schema = z.strictObject({ ...checkpointFilterShape });

/**
 * `checkpoint-average` (CA): the uniform mean of a run's checkpoints, optionally only the last K or those after
 * a step or a fraction of training (to leave out warm-up checkpoints).
 */
export class CheckpointAverageStrategy implements AveragingStrategy<z.infer<typeof schema>> {
  readonly id = 'checkpoint-average';
  readonly description = 'Checkpoint averaging (CA): uniform mean of the checkpoints of each run (options: lastK, fromStep, fromFraction)';
  readonly scope = 'per-run' as const;
  readonly oracle = false;
  readonly optionsSchema = schema;

  async plan(runs: readonly RunInfo[], options: z.infer<typeof schema>): Promise<WeightedCheckpoint[]> {
    return uniform(filterCheckpoints(singleRun(runs, this.id), options, this.id));
  }
}
