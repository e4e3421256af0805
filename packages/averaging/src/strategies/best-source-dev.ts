import type { AveragingStrategy, RunInfo, StrategyContext, WeightedCheckpoint } from '@xlt/plugin-api';
import { z } from 'zod';
import { argmax, singleRun, sourceDevScore } from './plan-helpers.js';

const schema = z.strictObject({
  metric: z.string().min(1).optional().describe("metric to rank by; default: the task's primary metric"),
});

/** `best-source-dev`: the checkpoint of a run that scores best on source-language dev data (legitimate ZS-XLT). */
export class BestSourceDevStrategy implements AveragingStrategy<z.infer<typeof schema>> {
  readonly id = 'best-source-dev';
  readonly description = 'Select the checkpoint of each run with the best source-language dev score (valid zero-shot selection)';
  readonly scope = 'per-run' as const;
  readonly oracle = false;
  readonly needsSourceDev = true;
  readonly optionsSchema = schema;

  async plan(runs: readonly RunInfo[], options: z.infer<typeof schema>, context: StrategyContext): Promise<WeightedCheckpoint[]> {
    const run = singleRun(runs, this.id);
    const metric = options.metric ?? context.primaryMetric;
    return [{ checkpoint: argmax(run.checkpoints, (c) => sourceDevScore(c, metric, this.id)), weight: 1 }];
  }
}
