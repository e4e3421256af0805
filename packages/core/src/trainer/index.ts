/**
 * The trainer: fine-tuning of encoder + task head with resumable checkpoints, and batched prediction.
 * @packageDocumentation
 */
export { train, checkpointSteps, loadHeadParameters } from './train.js';
export type { TrainingJob, TrainingResult } from './training-job.js';
export {
  resolveTrainingOptions,
  type TrainingOptions,
  type ResolvedTrainingOptions,
  type LearningRateSchedule,
  LEARNING_RATE_SCHEDULES,
  type CheckpointPoint,
  type Predictor,
  type SourceDevEvaluator,
} from './training-options.js';
export { learningRateAt, warmupStepsOf } from './schedule.js';
export { deriveSeed } from './seeds.js';
export { padBatch, realTokens } from './batches.js';
export { predict } from './predict.js';
export { headForward, headLossAndGradients, type HeadParameters, type HeadGradients } from './head-pass.js';
export {
  TRAINER_STATE_FILE,
  checkpointFolder,
  taskArchitecture,
  taskModelConfig,
  writeCheckpointFolder,
  listCheckpoints,
  removePartialCheckpoints,
  type CheckpointContents,
} from './checkpoint-folder.js';
export { TRAINER_STATE_FORMAT, loadResumeState, type RunPosition, type ResumedState } from './trainer-state.js';
export { ProgressReporter, lineOutput, withLivePrefix, type ProgressSnapshot, type ProgressOutput, type ProgressCadence } from './progress.js';
export { EarlyStopping, type BestScore } from './early-stopping.js';
export {
  RunTelemetry,
  memorySnapshot,
  SOURCE_DEV_TAG,
  type MemorySnapshot,
  type TfMemoryInfo,
  type TrainingRecord,
  type CheckpointRecord,
  type EarlyStoppingRecord,
  type RunMetricsRecord,
} from './run-telemetry.js';
export * from '../telemetry/index.js';
export { DefaultTrainer } from './default-trainer.js';
export { trainerModule } from './trainer-module.js';
