import type { AveragingStrategy, RunInfo, WeightedCheckpoint } from '@xlt/plugin-api';
import { z } from 'zod';
import { someRuns, uniform } from './plan-helpers.js';

const schema = z.strictObject({});

/**
 * `run-average` (RA): the uniform mean of the final checkpoints of several runs. Meaningful only when the runs
 * share the task head's initialisation (see the package README: a frozen shared head).
 */
export class RunAverageStrategy implements AveragingStrategy<z.infer<typeof schema>> {
  readonly id = 'run-average';
  readonly description = 'Run averaging (RA): uniform mean of the final checkpoints of all runs (needs a shared head initialisation)';
  readonly scope = 'across-runs' as const;
  readonly oracle = false;
  readonly optionsSchema = schema;

  async plan(runs: readonly RunInfo[]): Promise<WeightedCheckpoint[]> {
    return uniform(someRuns(runs, this.id).map((r) => r.checkpoints.at(-1)!));
  }
}
