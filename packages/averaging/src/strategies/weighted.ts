import { XltError, type AveragingStrategy, type RunInfo, type WeightedCheckpoint } from '@xlt/plugin-api';
import { z } from 'zod';
import { someRuns } from './plan-helpers.js';

const schema = z.strictObject({
  weights: z
    .array(z.number().nonnegative().finite())
    .min(1)
    .describe('one non-negative weight per checkpoint, runs in order then checkpoints in step order; normalised to sum to 1'),
});

/** `weighted`: explicit weights, one per checkpoint of the given runs (in order), normalised to sum 1. */
export class WeightedStrategy implements AveragingStrategy<z.infer<typeof schema>> {
  readonly id = 'weighted';
  readonly description = 'Weighted average with explicit weights, one per checkpoint (runs in order, then steps), normalised';
  readonly scope = 'across-runs' as const;
  readonly oracle = false;
  readonly optionsSchema = schema;

  async plan(runs: readonly RunInfo[], options: z.infer<typeof schema>): Promise<WeightedCheckpoint[]> {
    const all = someRuns(runs, this.id).flatMap((r) => r.checkpoints);
    if (options.weights.length !== all.length) {
      throw new XltError(`Strategy "${this.id}": ${options.weights.length} weights given for ${all.length} checkpoints (${all.map((c) => c.path).join(', ')})`);
    }
    const sum = options.weights.reduce((a, b) => a + b, 0);
    if (!(sum > 0)) throw new XltError(`Strategy "${this.id}": the weights sum to ${sum}; at least one must be positive`);
    return all.map((checkpoint, i) => ({ checkpoint, weight: options.weights[i]! / sum })).filter((w) => w.weight > 0);
  }
}
