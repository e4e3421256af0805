import { beforeAll, describe, expect, it } from 'vitest';
import { runMergeMethodConformance } from '../testing/merge-method-conformance.js';
import { builtinMergeMethods } from './builtins.js';

const PARAMS: Record<string, Record<string, unknown>> = {
  linear: {},
  task_arithmetic: { lambda: 0.8 },
  ties: { density: 0.4 },
  dare_linear: { density: 0.5, seed: 11 },
  dare_ties: { density: 0.6, seed: 5 },
  model_stock: {},
  slerp: { t: 0.3 },
};
const INVALID: Record<string, Record<string, unknown>[]> = {
  linear: [{ normalize: 'yes' }],
  task_arithmetic: [{ lambda: 'big' }, { lambda: Number.POSITIVE_INFINITY }],
  ties: [{ density: 0 }, { density: 1.01 }, { density: [] }],
  dare_linear: [{ density: -0.5 }, { seed: 1.5 }, { seed: -1 }],
  dare_ties: [{ rescale: 1 }],
  model_stock: [{ filter_wise: true }],
  slerp: [{ t: 1.5 }, { t: -0.1 }],
};

describe('every built-in merge method passes the conformance suite', () => {
  it('has parameters and invalid cases for each built-in', () => {
    expect(builtinMergeMethods().map((m) => m.id).sort()).toEqual(Object.keys(PARAMS).sort());
  });
});

for (const method of builtinMergeMethods()) {
  runMergeMethodConformance(method, { runner: { describe, it, expect, beforeAll }, params: PARAMS[method.id]!, invalidParams: INVALID[method.id]! });
}
