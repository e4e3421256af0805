import type { ExperimentConfig } from '../config/experiment-schema.js';

/** One point of the hyperparameter grid with its seed: everything that distinguishes one fine-tuning run. */
export interface GridPoint {
  readonly learningRate: number;
  readonly batchSize: number;
  readonly epochs: number;
  readonly schedule: 'linear' | 'cosine' | 'polynomial' | 'constant';
  readonly warmup: number;
  readonly seed: number;
}

/** Every grid point crossed with every seed, in a fixed order (seeds innermost) so run indices are stable. */
export function expandGrid(grid: ExperimentConfig['grid']): GridPoint[] {
  const out: GridPoint[] = [];
  for (const learningRate of grid.learningRate)
    for (const batchSize of grid.batchSize)
      for (const epochs of grid.epochs)
        for (const schedule of grid.schedule)
          for (const warmup of grid.warmup)
            for (const seed of grid.seeds) out.push({ learningRate, batchSize, epochs, schedule, warmup, seed });
  return out;
}

/** A number as people write hyperparameters: `2e-05`, `32`, `0.1` (exponent form below 1e-3, like Python's repr). */
export function formatNumber(value: number): string {
  if (value !== 0 && Math.abs(value) < 1e-3) {
    const [mantissa, exponent] = value.toExponential().split('e');
    const e = Number(exponent);
    return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return String(value);
}

/** The hyperparameters without the seed, as a key: runs with the same one differ only by seed. */
export function settingKey(point: GridPoint): string {
  return `lr=${formatNumber(point.learningRate)}_bs=${point.batchSize}_ep=${formatNumber(point.epochs)}_sched=${point.schedule}_wu=${formatNumber(point.warmup)}`;
}

/**
 * The folder-safe key of a run, derived from its hyperparameters so that a person browsing the output knows
 * what each folder holds: `lr=2e-05_bs=32_ep=3_sched=linear_wu=0.1_seed=1`.
 */
export function runKey(point: GridPoint): string {
  return `${settingKey(point)}_seed=${point.seed}`;
}

/** The hyperparameters of a run as a plain record, for results tables. */
export function hyperparameterRecord(point: GridPoint): Record<string, number | string> {
  return { ...point };
}
