import type { MergeMethod, MergeTensorInputs } from '@xlt/plugin-api';
import { z } from 'zod';
import { lambdaParameter, normalizeParameter } from './parameters.js';
import { combineTaskVectors } from './task-vectors.js';

const schema = z.strictObject({ lambda: lambdaParameter, normalize: normalizeParameter(false) });

/** Parameters of {@link taskArithmeticMethod}. */
export type TaskArithmeticParams = z.output<typeof schema>;

/** `task_arithmetic`: `base + lambda * sum_j w_j (theta_j - base)` (divided by `sum_j w_j` with `normalize`). */
export const taskArithmeticMethod: MergeMethod<TaskArithmeticParams> = {
  id: 'task_arithmetic',
  name: 'Task arithmetic',
  description: 'base plus lambda times the weighted sum of the task vectors (model - base)',
  reference: 'Ilharco et al. 2023, "Editing models with task arithmetic", ICLR 2023, arXiv:2212.04089',
  base: 'required',
  models: { min: 1 },
  usesWeights: true,
  parameters: schema,
  mergeTensor(inputs: MergeTensorInputs, params: TaskArithmeticParams, out: Float64Array): void {
    const keep = inputs.models.map(() => (delta: number) => delta);
    combineTaskVectors(inputs, keep, { consensus: false, normalize: params.normalize, lambda: params.lambda }, out);
  },
};
