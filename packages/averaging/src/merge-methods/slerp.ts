import type { MergeMethod, MergeTensorInputs } from '@xlt/plugin-api';
import { z } from 'zod';

const T = 'a number in [0, 1]';
const schema = z.strictObject({ t: z.number({ error: T }).min(0, T).max(1, T).default(0.5) });

/** Parameters of {@link slerpMethod}. */
export type SlerpParams = z.output<typeof schema>;

/** mergekit's threshold: above it the two directions are treated as colinear and interpolated linearly. */
const DOT_THRESHOLD = 0.9995;
/** Norms at or below this are not normalised (mergekit's `eps`). */
const EPS = 1e-8;

/**
 * `slerp`: spherical linear interpolation between exactly two models, each tensor flattened to one vector: with
 * `dot` the cosine of the angle `theta` between them, `merged = sin((1-t) theta)/sin(theta) * v0 + sin(t theta)/sin(theta) * v1`;
 * when `|dot| > 0.9995` (nearly colinear) it falls back to `(1-t) v0 + t v1`, as mergekit does. `t = 0` gives the
 * first model of the plan.
 */
export const slerpMethod: MergeMethod<SlerpParams> = {
  id: 'slerp',
  name: 'SLERP',
  description: 'spherical interpolation between exactly two models (parameter t; linear when nearly colinear)',
  reference: 'Shoemake 1985, "Animating rotation with quaternion curves", SIGGRAPH 1985; for models: Goddard et al. 2024, "Arcee\'s MergeKit", arXiv:2403.13257',
  base: 'unused',
  models: { min: 2, max: 2 },
  usesWeights: false,
  parameters: schema,
  mergeTensor({ models }: MergeTensorInputs, { t }: SlerpParams, out: Float64Array): void {
    const [v0, v1] = [models[0]!, models[1]!];
    const norm = (v: ArrayLike<number>) => {
      let s = 0;
      for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
      const n = Math.sqrt(s);
      return n > EPS ? n : 1;
    };
    const [n0, n1] = [norm(v0), norm(v1)];
    let dot = 0;
    for (let i = 0; i < out.length; i++) dot += (v0[i]! / n0) * (v1[i]! / n1);
    let s0 = 1 - t;
    let s1 = t;
    if (Math.abs(dot) <= DOT_THRESHOLD) {
      const theta = Math.acos(dot);
      const sinTheta = Math.sin(theta);
      s0 = Math.sin(theta - theta * t) / sinTheta;
      s1 = Math.sin(theta * t) / sinTheta;
    }
    for (let i = 0; i < out.length; i++) out[i] = s0 * v0[i]! + s1 * v1[i]!;
  },
};
