import type { Metrics } from '@xlt/plugin-api';

/**
 * Learning-rate schedule after warm-up, as HF `transformers`' `lr_scheduler_type`: `linear` (decay to 0 at the last
 * step), `cosine` (half a cosine to 0), `polynomial` (to 1e-7 with {@link TrainingOptions.polynomialPower}) or
 * `constant`. See `learningRateAt`.
 */
export type LearningRateSchedule = 'linear' | 'cosine' | 'polynomial' | 'constant';

/** The schedules {@link LearningRateSchedule} names, for validation and help texts. */
export const LEARNING_RATE_SCHEDULES: readonly LearningRateSchedule[] = ['linear', 'cosine', 'polynomial', 'constant'];

/** Hyperparameters of one fine-tuning run. Defaults follow HF `TrainingArguments` where it has one. */
export interface TrainingOptions {
  /** Peak learning rate. */
  readonly learningRate: number;
  /** Features per forward pass (HF `per_device_train_batch_size`). */
  readonly batchSize: number;
  readonly epochs: number;
  /** Micro-batches summed into one optimizer step (default 1); the effective batch is `batchSize` x this. */
  readonly gradientAccumulationSteps?: number;
  /** Default `linear`. */
  readonly schedule?: LearningRateSchedule;
  /** Power of the `polynomial` schedule (HF `power`, default 1: linear decay to the end rate). */
  readonly polynomialPower?: number;
  /** Learning rate the `polynomial` schedule ends at (HF `lr_end`, default 1e-7); must be below {@link learningRate}. */
  readonly polynomialEndLearningRate?: number;
  /** Warm-up as optimizer steps; overrides {@link warmupRatio}. */
  readonly warmupSteps?: number;
  /** Warm-up as a fraction of all optimizer steps (default 0). */
  readonly warmupRatio?: number;
  /** Decoupled weight decay (default 0.01); never applied to biases and LayerNorm weights. */
  readonly weightDecay?: number;
  /** AdamW's decay rate of the first moment (HF `adam_beta1`, default 0.9), in [0, 1). */
  readonly beta1?: number;
  /** AdamW's decay rate of the second moment (HF `adam_beta2`, default 0.999), in [0, 1). */
  readonly beta2?: number;
  /** AdamW's epsilon (HF `adam_epsilon`, default 1e-8), > 0. */
  readonly epsilon?: number;
  /** Clip gradients of encoder and head together to this global L2 norm (default 1; 0 or Infinity turns it off). */
  readonly maxGradNorm?: number;
  /** Seed of data order, dropout masks and head initialisation. */
  readonly seed: number;
  /** Save a checkpoint every N optimizer steps. */
  readonly checkpointEverySteps?: number;
  /** Save K evenly spaced checkpoints per epoch (1 = at the end of each epoch). */
  readonly checkpointsPerEpoch?: number;
  /** Continue from the newest complete checkpoint in the run folder when there is one. */
  readonly resume?: boolean;
  /** Keep the head's parameters fixed (used with an initial head from another checkpoint). */
  readonly freezeHead?: boolean;
  /**
   * Optimizer steps between records of `metrics.jsonl` and TensorBoard scalars, and between progress lines when
   * stderr is not a terminal (HF `logging_steps`, default 10). The last step is always logged.
   */
  readonly loggingSteps?: number;
  /**
   * Also print a progress line (not a terminal) when this many seconds passed since the last one, between logging
   * steps; default: off (lines at logging steps only).
   */
  readonly progressEverySeconds?: number;
  /**
   * Early stopping on source dev (HF `EarlyStoppingCallback`): stop after this many source-dev evaluations in a row
   * (one per checkpoint) that did not improve on the best by more than {@link earlyStoppingThreshold}. Default off.
   * Needs a source-dev evaluator at checkpoints (`TrainingJob.sourceDev`).
   */
  readonly earlyStoppingPatience?: number;
  /** Smallest improvement of the monitored metric that resets the patience (HF `early_stopping_threshold`, default 0). */
  readonly earlyStoppingThreshold?: number;
  /**
   * Source-dev metric that early stopping watches (higher is better); default `TrainingJob.sourceDevMetric`, else
   * the first metric the evaluator returns.
   */
  readonly earlyStoppingMetric?: string;
}

/** The options with every default filled in. */
export type ResolvedTrainingOptions = Required<Omit<TrainingOptions, OptionalSettings>> & Pick<TrainingOptions, OptionalSettings>;

/** Settings that stay undefined when not given (they mean "off" or "derived"). */
type OptionalSettings = 'warmupSteps' | 'checkpointEverySteps' | 'checkpointsPerEpoch' | 'progressEverySeconds' | 'earlyStoppingPatience' | 'earlyStoppingMetric';

/** Fills in defaults. */
export function resolveTrainingOptions(options: TrainingOptions): ResolvedTrainingOptions {
  return {
    gradientAccumulationSteps: 1,
    schedule: 'linear',
    warmupRatio: 0,
    weightDecay: 0.01,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
    maxGradNorm: 1,
    resume: false,
    freezeHead: false,
    polynomialPower: 1,
    polynomialEndLearningRate: 1e-7,
    loggingSteps: 10,
    earlyStoppingThreshold: 0,
    // An option given as `undefined` keeps its default.
    ...(Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as TrainingOptions),
  };
}

/** Where a checkpoint was taken, handed to the source-dev callback. */
export interface CheckpointPoint {
  readonly step: number;
  /** Fractional epoch (`1.5` = half way through the second epoch). */
  readonly epoch: number;
}

/** Computes per-feature logits of the model as it is now (see `predict`). */
export type Predictor<F> = (features: readonly F[]) => Promise<Float32Array[]>;

/** Scores the model as it is at a checkpoint on source-language dev data. */
export type SourceDevEvaluator<F> = (predict: Predictor<F>, at: CheckpointPoint) => Promise<Metrics>;
