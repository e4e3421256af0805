import type { AveragingStrategy, RunInfo, WeightedCheckpoint } from '@xlt/plugin-api';
import { z } from 'zod';
import { checkpointFilterShape, filterCheckpoints, singleRun } from './plan-helpers.js';

const schema = z.strictObject({
  ...checkpointFilterShape,
  decay: z.number().min(0).lt(1).default(0.5).describe('EMA decay per checkpoint: e_k = decay * e_(k-1) + (1 - decay) * c_k'),
});

/**
 * `ema`: an exponential moving average over the checkpoint sequence, `e_1 = c_1`,
 * `e_k = decay * e_(k-1) + (1 - decay) * c_k`; the weight of checkpoint k of n is `(1 - decay) * decay^(n-k)`
 * (and `decay^(n-1)` for the first), so the weights sum to 1.
 */
export class EmaStrategy implements AveragingStrategy<z.input<typeof schema>> {
  readonly id = 'ema';
  readonly description = 'Exponential moving average over the checkpoints of each run (option: decay, plus CA filters)';
  readonly scope = 'per-run' as const;
  readonly oracle = false;
  readonly optionsSchema = schema;

  async plan(runs: readonly RunInfo[], options: z.input<typeof schema>): Promise<WeightedCheckpoint[]> {
    const decay = options.decay ?? 0.5;
    const kept = filterCheckpoints(singleRun(runs, this.id), options, this.id);
    const n = kept.length;
    return kept
      .map((checkpoint, k) => ({ checkpoint, weight: k === 0 ? decay ** (n - 1) : (1 - decay) * decay ** (n - 1 - k) }))
      .filter((w) => w.weight > 0);
  }
}
