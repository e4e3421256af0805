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
export { ProgressReporter, type ProgressSnapshot } from './progress.js';
export { DefaultTrainer } from './default-trainer.js';
export { trainerModule } from './trainer-module.js';
