import type { MergeMethod, MergeTensorInputs } from '@xlt/plugin-api';
import { z } from 'zod';
import { checkDensityCount, densityOf, densityParameter, lambdaParameter, normalizeParameter, seedParameter } from './parameters.js';
import { combineTaskVectors, dareDrop } from './task-vectors.js';

const schema = z.strictObject({
  density: densityParameter,
  lambda: lambdaParameter,
  normalize: normalizeParameter(false),
  rescale: z.boolean({ error: 'true or false' }).default(true),
  seed: seedParameter,
});

/** Parameters of {@link dareLinearMethod} and {@link dareTiesMethod}. */
export type DareParams = z.output<typeof schema>;

const REFERENCE =
  'Yu et al. 2024, "Language models are Super Mario: Absorbing abilities from homologous models as a free lunch", ICML 2024, arXiv:2311.03099';

function dare(consensus: boolean) {
  return (inputs: MergeTensorInputs, params: DareParams, out: Float64Array): void => {
    const drops = inputs.models.map((_, j) => dareDrop(params.seed, j, inputs.name, densityOf(params.density, j), params.rescale));
    combineTaskVectors(inputs, drops, { consensus, normalize: params.normalize, lambda: params.lambda }, out);
  };
}

/** `dare_linear`: DARE's random drop and rescale of each task vector, then task arithmetic. */
export const dareLinearMethod: MergeMethod<DareParams> = {
  id: 'dare_linear',
  name: 'DARE (linear)',
  description: 'drop task-vector elements at random (seeded), rescale by 1/density, weighted sum added to the base',
  reference: REFERENCE,
  base: 'required',
  models: { min: 1 },
  usesWeights: true,
  parameters: schema,
  validate: (params, models) => checkDensityCount('dare_linear', params.density, models),
  mergeTensor: dare(false),
};

/** `dare_ties`: DARE's random drop and rescale of each task vector, then TIES's sign consensus and disjoint sum. */
export const dareTiesMethod: MergeMethod<DareParams> = {
  id: 'dare_ties',
  name: 'DARE (TIES)',
  description: 'drop task-vector elements at random (seeded), rescale by 1/density, TIES sign consensus, added to the base',
  reference: REFERENCE,
  base: 'required',
  models: { min: 1 },
  usesWeights: true,
  parameters: schema,
  validate: (params, models) => checkDensityCount('dare_ties', params.density, models),
  mergeTensor: dare(true),
};
