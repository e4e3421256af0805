import type { Metrics } from '@xlt/plugin-api';

/** Learning-rate schedule after warm-up: HF's `linear` (decay to 0 at the last step) or `constant`. */
export type LearningRateSchedule = 'linear' | 'constant';

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
  /** Warm-up as optimizer steps; overrides {@link warmupRatio}. */
  readonly warmupSteps?: number;
  /** Warm-up as a fraction of all optimizer steps (default 0). */
  readonly warmupRatio?: number;
  /** Decoupled weight decay (default 0.01); never applied to biases and LayerNorm weights. */
  readonly weightDecay?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  /** Default 1e-8. */
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
  /** Seconds between progress lines (default 10). */
  readonly progressEverySeconds?: number;
}

/** The options with every default filled in. */
export type ResolvedTrainingOptions = Required<Omit<TrainingOptions, 'warmupSteps' | 'checkpointEverySteps' | 'checkpointsPerEpoch'>> &
  Pick<TrainingOptions, 'warmupSteps' | 'checkpointEverySteps' | 'checkpointsPerEpoch'>;

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
    progressEverySeconds: 10,
    ...options,
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
