import type { MergeMethod, MergeTensorInputs } from '@xlt/plugin-api';
import { z } from 'zod';
import { normalizeParameter } from './parameters.js';

const schema = z.strictObject({ normalize: normalizeParameter(true) });

/** Parameters of {@link linearMethod}. */
export type LinearParams = z.output<typeof schema>;

/**
 * `linear`: the weighted mean `sum_j (w_j / sum w) * theta_j` (with `normalize: false`, `sum_j w_j * theta_j`), the
 * model soup. The same float64 operations in the same order as the streaming averager (`w * x + 0` for the first
 * model with a positive weight, then `+= w * x`; zero weights skipped), so its output is byte-identical to
 * `averageCheckpoints` on the same plan.
 */
export const linearMethod: MergeMethod<LinearParams> = {
  id: 'linear',
  name: 'Linear (model soup)',
  description: 'weighted mean of the models (uniform soup with equal weights); no base',
  reference: 'Wortsman et al. 2022, "Model soups: averaging weights of multiple fine-tuned models improves accuracy without increasing inference time", ICML 2022, arXiv:2203.05482',
  base: 'unused',
  models: { min: 1 },
  usesWeights: true,
  parameters: schema,
  mergeTensor({ models, weights }: MergeTensorInputs, params: LinearParams, out: Float64Array): void {
    let sum = 0;
    for (const w of weights) sum += w;
    let first = true;
    for (let j = 0; j < models.length; j++) {
      if (!(weights[j]! > 0)) continue;
      const w = params.normalize ? weights[j]! / sum : weights[j]!;
      const x = models[j]!;
      if (first) for (let i = 0; i < out.length; i++) out[i] = w * x[i]! + 0;
      else for (let i = 0; i < out.length; i++) out[i]! += w * x[i]!;
      first = false;
    }
    if (first) out.fill(0);
  },
};
