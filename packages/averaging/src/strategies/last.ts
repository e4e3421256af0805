import type { AveragingStrategy, RunInfo, WeightedCheckpoint } from '@xlt/plugin-api';
import { z } from 'zod';
import { singleRun } from './plan-helpers.js';

const schema = z.strictObject({});

/** `last`: the final checkpoint of a run, the usual baseline of ZS-XLT papers. */
export class LastCheckpointStrategy implements AveragingStrategy<z.infer<typeof schema>> {
  readonly id = 'last';
  readonly description = 'Select the final checkpoint of each run (the common ZS-XLT baseline)';
  readonly scope = 'per-run' as const;
  readonly oracle = false;
  readonly optionsSchema = schema;

  async plan(runs: readonly RunInfo[]): Promise<WeightedCheckpoint[]> {
    return [{ checkpoint: singleRun(runs, this.id).checkpoints.at(-1)!, weight: 1 }];
  }
}
