import type { MergeMethod, MergeTensorInputs } from '@xlt/plugin-api';
import { z } from 'zod';

const schema = z.strictObject({});

/** Parameters of {@link modelStockMethod}: none. */
export type ModelStockParams = z.output<typeof schema>;

/**
 * `model_stock`: with `cos` the mean over pairs of the cosine between the models' task vectors of this tensor
 * (each norm product clamped to at least 1e-6 and each cosine to [-1, 1], as mergekit), `t = N cos / (1 + (N-1) cos)`
 * and `merged = t * mean_j(theta_j) + (1 - t) * base`. Weights are not used: the mean is uniform.
 */
export const modelStockMethod: MergeMethod<ModelStockParams> = {
  id: 'model_stock',
  name: 'Model stock',
  description: 'interpolate between the mean of the models and the base, by the angle between their task vectors',
  reference: 'Jang et al. 2024, "Model Stock: All we need is just a few fine-tuned models", ECCV 2024, arXiv:2403.19522',
  base: 'required',
  models: { min: 2 },
  usesWeights: false,
  parameters: schema,
  mergeTensor({ models, base }: MergeTensorInputs, _params: ModelStockParams, out: Float64Array): void {
    const b = base!;
    const count = models.length;
    const norms = models.map((m) => {
      let s = 0;
      for (let i = 0; i < m.length; i++) s += (m[i]! - b[i]!) ** 2;
      return Math.sqrt(s);
    });
    let cosSum = 0;
    for (let p = 0; p < count; p++) {
      for (let q = p + 1; q < count; q++) {
        const [x, y] = [models[p]!, models[q]!];
        let dot = 0;
        for (let i = 0; i < x.length; i++) dot += (x[i]! - b[i]!) * (y[i]! - b[i]!);
        cosSum += Math.min(1, Math.max(-1, dot / Math.max(norms[p]! * norms[q]!, 1e-6)));
      }
    }
    const cos = cosSum / ((count * (count - 1)) / 2);
    const t = (count * cos) / (1 + (count - 1) * cos);
    for (let i = 0; i < out.length; i++) {
      let sum = 0;
      for (let j = 0; j < count; j++) sum += models[j]![i]!;
      out[i] = t * (sum / count) + (1 - t) * b[i]!;
    }
  },
};
