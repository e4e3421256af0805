import { describe, expect, test } from 'vitest';
import { learningRateAt } from './schedule.js';
import { resolveTrainingOptions, type TrainingOptions } from './training-options.js';

const BASE: TrainingOptions = { learningRate: 2e-5, batchSize: 8, epochs: 1, seed: 1, warmupSteps: 4 };

/** Relative agreement to double precision: the HF values went through other float operations (lambda x lr_init). */
function expectClose(actual: number, expected: number): void {
  if (expected === 0) expect(actual).toBe(0);
  else expect(Math.abs(actual - expected) / Math.abs(expected)).toBeLessThan(1e-12);
}

/**
 * Expected values are those of transformers' schedules (optimization.py, `_get_cosine_schedule_with_warmup_lr_lambda`
 * with num_cycles 0.5 and `_get_polynomial_decay_schedule_with_warmup_lr_lambda` with lr_end 1e-7), times lr 2e-5,
 * computed in Python with the HF code for 4 warm-up steps of 20.
 */
describe('learning-rate schedules as HF transformers', () => {
  test('cosine: warm-up, then half a cosine to 0', () => {
    const o = resolveTrainingOptions({ ...BASE, schedule: 'cosine' });
    const hf: [number, number][] = [[0, 0], [1, 5e-6], [3, 1.5000000000000002e-5], [4, 2e-5], [7, 1.8314696123025456e-5], [10, 1.3826834323650899e-5], [19, 1.921471959676957e-7], [20, 0]];
    for (const [step, lr] of hf) expectClose(learningRateAt(step, 20, o), lr);
  });

  test('polynomial, power 1 (the default): warm-up, then linear to lr_end 1e-7, which it keeps after the last step', () => {
    const o = resolveTrainingOptions({ ...BASE, schedule: 'polynomial' });
    const hf: [number, number][] = [[0, 0], [2, 1e-5], [4, 2e-5], [5, 1.8756250000000002e-5], [12, 1.0050000000000002e-5], [19, 1.34375e-6], [20, 1e-7], [25, 1e-7]];
    for (const [step, lr] of hf) expectClose(learningRateAt(step, 20, o), lr);
  });

  test('polynomial, power 2', () => {
    const o = resolveTrainingOptions({ ...BASE, schedule: 'polynomial', polynomialPower: 2 });
    const hf: [number, number][] = [[2, 1e-5], [4, 2e-5], [5, 1.7590234375e-5], [12, 5.075000000000001e-6], [19, 1.77734375e-7], [20, 1e-7]];
    for (const [step, lr] of hf) expectClose(learningRateAt(step, 20, o), lr);
  });

  test('linear and constant stay as they were', () => {
    const linear = resolveTrainingOptions({ ...BASE, learningRate: 1 });
    expect([0, 2, 4, 12, 20].map((s) => learningRateAt(s, 20, linear))).toEqual([0, 0.5, 1, 0.5, 0]);
    const constant = resolveTrainingOptions({ ...BASE, learningRate: 1, schedule: 'constant' });
    expect([0, 2, 4, 12, 19].map((s) => learningRateAt(s, 20, constant))).toEqual([0, 0.5, 1, 1, 1]);
  });

  test('an option given as undefined keeps its default', () => {
    const o = resolveTrainingOptions({ ...BASE, schedule: undefined, beta1: undefined, loggingSteps: undefined });
    expect([o.schedule, o.beta1, o.loggingSteps, o.polynomialPower, o.polynomialEndLearningRate]).toEqual(['linear', 0.9, 10, 1, 1e-7]);
  });
});
