import type { ExperimentConfig } from '../config/experiment-schema.js';

/**
 * What defines the runs of an experiment, and so whether an output folder holds this experiment: task, model,
 * data, setup, training options, checkpoint schedule and run groups. The grid is not part of it: every run is a
 * folder keyed by its own hyperparameters and seed, so adding seeds or learning rates to a finished experiment
 * trains only the new runs and reuses the finished ones, and across-run models whose group grew are rebuilt (see
 * `dropOutgrownGroupModels`). Strategies, sinks, backend, `retention` and `output` may change between re-runs too.
 */
export function experimentIdentity(config: ExperimentConfig): unknown {
  const { task, model, source, targets, setup, training, checkpoints, runGroups } = config;
  return { task, model, source, targets, setup, training, checkpoints, runGroups };
}

/**
 * The top-level keys in which a folder's recorded identity differs from a config's, for the error that refuses to
 * mix two experiments in one folder. An identity recorded before the grid left it (`grid` present) is compared
 * without it.
 */
export function identityDifferences(recorded: unknown, config: ExperimentConfig): string[] {
  const now = experimentIdentity(config) as Record<string, unknown>;
  const before = (recorded ?? {}) as Record<string, unknown>;
  const keys = new Set([...Object.keys(now), ...Object.keys(before)].filter((k) => k !== 'grid'));
  return [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(now[k])).sort();
}
