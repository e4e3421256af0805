import type { ResolvedTrainingOptions } from './training-options.js';

/** Optimizer steps of warm-up: {@link ResolvedTrainingOptions.warmupSteps}, else `ceil(ratio x total)` as HF. */
export function warmupStepsOf(options: ResolvedTrainingOptions, totalSteps: number): number {
  return options.warmupSteps ?? Math.ceil(options.warmupRatio * totalSteps);
}

/**
 * The learning rate of the optimizer step with 0-based index `step`, as HF's `get_linear_schedule_with_warmup`
 * and `get_constant_schedule_with_warmup`: linear warm-up from 0, then linear decay to 0 at `totalSteps` (or
 * constant).
 */
export function learningRateAt(step: number, totalSteps: number, options: ResolvedTrainingOptions): number {
  const warmup = warmupStepsOf(options, totalSteps);
  const peak = options.learningRate;
  if (step < warmup) return (peak * step) / Math.max(1, warmup);
  if (options.schedule === 'constant') return peak;
  return peak * Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmup));
}
