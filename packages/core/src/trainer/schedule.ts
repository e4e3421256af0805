import type { ResolvedTrainingOptions } from './training-options.js';

/** Optimizer steps of warm-up: {@link ResolvedTrainingOptions.warmupSteps}, else `ceil(ratio x total)` as HF. */
export function warmupStepsOf(options: Pick<ResolvedTrainingOptions, 'warmupSteps' | 'warmupRatio'>, totalSteps: number): number {
  return options.warmupSteps ?? Math.ceil(options.warmupRatio * totalSteps);
}

/**
 * The learning rate of the optimizer step with 0-based index `step`, as the `LambdaLR` schedules of HF
 * `transformers`: linear warm-up from 0 over the warm-up steps, then
 * - `linear` (`get_linear_schedule_with_warmup`): linear decay to 0 at `totalSteps`;
 * - `cosine` (`get_cosine_schedule_with_warmup`, `num_cycles` 0.5): half a cosine from the peak to 0;
 * - `polynomial` (`get_polynomial_decay_schedule_with_warmup`): `(peak - end) x remaining^power + end`, with
 *   `end` = {@link ResolvedTrainingOptions.polynomialEndLearningRate} (1e-7) and `power` =
 *   {@link ResolvedTrainingOptions.polynomialPower} (1), and `end` after `totalSteps`;
 * - `constant` (`get_constant_schedule_with_warmup`): the peak.
 */
export function learningRateAt(
  step: number,
  totalSteps: number,
  options: Pick<ResolvedTrainingOptions, 'learningRate' | 'schedule' | 'warmupSteps' | 'warmupRatio'> &
    Partial<Pick<ResolvedTrainingOptions, 'polynomialPower' | 'polynomialEndLearningRate'>>,
): number {
  const warmup = warmupStepsOf(options, totalSteps);
  const peak = options.learningRate;
  if (step < warmup) return (peak * step) / Math.max(1, warmup);
  switch (options.schedule) {
    case 'constant':
      return peak;
    case 'cosine': {
      const progress = (step - warmup) / Math.max(1, totalSteps - warmup);
      return peak * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * 0.5 * 2 * progress)));
    }
    case 'polynomial': {
      const end = options.polynomialEndLearningRate ?? 1e-7;
      const power = options.polynomialPower ?? 1;
      if (step > totalSteps) return end;
      const remaining = 1 - (step - warmup) / Math.max(1, totalSteps - warmup);
      return (peak - end) * remaining ** power + end;
    }
    default:
      return peak * Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmup));
  }
}
