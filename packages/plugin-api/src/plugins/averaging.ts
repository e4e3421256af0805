import type { Plugin } from './plugin.js';
import type { Metrics } from './task.js';

/** One saved checkpoint of a fine-tuning run. */
export interface CheckpointInfo {
  /** Path of the checkpoint: a `.safetensors` file or an HF model folder. */
  readonly path: string;
  /** Id of the run it belongs to. */
  readonly run: string;
  /** Optimizer step at which it was saved. */
  readonly step: number;
  readonly epoch?: number;
  /** Total steps the run was planned for, so strategies can use fractions of training. */
  readonly totalSteps?: number;
  /** Source-language validation metrics, when computed. */
  readonly sourceDev?: Metrics;
  /** Target-language validation metrics by language: only the oracle may look at them. */
  readonly targetDev?: Readonly<Record<string, Metrics>>;
}

/** One fine-tuning run: its checkpoints in step order, the last one being the final model. */
export interface RunInfo {
  readonly id: string;
  readonly checkpoints: readonly CheckpointInfo[];
  /** The hyperparameters of the run (learning rate, batch size, seed, ...), for reports. */
  readonly hyperparameters?: Readonly<Record<string, unknown>>;
}

/** A checkpoint with its weight in an average. Weights of a plan sum to 1. */
export interface WeightedCheckpoint {
  readonly checkpoint: CheckpointInfo;
  readonly weight: number;
}

/** What a strategy may ask while it plans (greedy soup evaluates candidate averages). */
export interface StrategyContext {
  /** Primary metric name of the task, e.g. `f1`. */
  readonly primaryMetric: string;
  /** Target language when the plan is per language (oracle only). */
  readonly targetLanguage?: string;
  /** Scores a candidate average on source-language dev data (greedy soup); absent when no dev data exists. */
  evaluateSourceDev?(plan: readonly WeightedCheckpoint[]): Promise<Metrics>;
}

/**
 * Extension point: an averaging or selection strategy. Like a mergekit method it does only the choosing and
 * weighting; streaming the tensors and the arithmetic are done once, for all strategies, by `@xlt/averaging`.
 * A selection (`last`, `best-source-dev`) is a plan with one checkpoint of weight 1.
 */
export interface AveragingStrategy<O = Record<string, unknown>> extends Plugin {
  /** `per-run` strategies make one model per run (CA, last); `across-runs` make one from all runs (RA, CA+RA). */
  readonly scope: 'per-run' | 'across-runs';
  /** True when the strategy peeks at target-language dev data: reports mark it as an oracle, not ZS-XLT. */
  readonly oracle: boolean;
  /**
   * True when the plan ranks or evaluates checkpoints on source-language dev data (`best-source-dev`, greedy soup):
   * an experiment without `source.dev` leaves it out of its defaults and refuses it when listed, before training.
   */
  readonly needsSourceDev?: boolean;
  /** Chooses checkpoints and weights. `runs` holds one run for `per-run` strategies. */
  plan(runs: readonly RunInfo[], options: O, context: StrategyContext): Promise<WeightedCheckpoint[]>;
}

/** Service identifier of {@link AveragingStrategy}. */
export const AveragingStrategy: unique symbol = Symbol.for('xlt.AveragingStrategy');
