import type { MergeMethod, MergeTensorInputs } from '@xlt/plugin-api';
import { z } from 'zod';
import { checkDensityCount, densityOf, densityParameter, lambdaParameter, normalizeParameter } from './parameters.js';
import { combineTaskVectors, magnitudeTrim } from './task-vectors.js';

const schema = z.strictObject({ density: densityParameter, lambda: lambdaParameter, normalize: normalizeParameter(true) });

/** Parameters of {@link tiesMethod}. */
export type TiesParams = z.output<typeof schema>;

/**
 * `ties`: trim each task vector to its top `density` fraction by magnitude, elect each element's sign as the sign
 * of the sum of the weighted trimmed values, take the (weighted) mean of the values that agree with it (the
 * disjoint mean), scale by lambda and add to the base.
 */
export const tiesMethod: MergeMethod<TiesParams> = {
  id: 'ties',
  name: 'TIES-Merging',
  description: 'trim task vectors by magnitude, elect signs, disjoint mean of the agreeing values, added to the base',
  reference: 'Yadav et al. 2023, "TIES-Merging: Resolving interference when merging models", NeurIPS 2023, arXiv:2306.01708',
  base: 'required',
  models: { min: 1 },
  usesWeights: true,
  parameters: schema,
  validate: (params, models) => checkDensityCount('ties', params.density, models),
  mergeTensor(inputs: MergeTensorInputs, params: TiesParams, out: Float64Array): void {
    // one scratch for the magnitudes, reused by every model: the thresholds are found one model at a time
    const scratch = new Float64Array(out.length);
    const trims = inputs.models.map((m, j) => magnitudeTrim(m, inputs.base!, densityOf(params.density, j), scratch));
    combineTaskVectors(inputs, trims, { consensus: true, normalize: params.normalize, lambda: params.lambda }, out);
  },
};
