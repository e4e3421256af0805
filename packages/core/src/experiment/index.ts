/**
 * The experiment of `xlt run`: the shared head, grid x seeds, resumable training, every strategy, evaluation on
 * every target language, results and provenance. Steps are behind {@link ExperimentServices} so the protocol is
 * independent of the backend.
 * @packageDocumentation
 */
export { expandGrid, formatNumber, settingKey, runKey, hyperparameterRecord, type GridPoint } from './grid.js';
export {
  type TrainingInput,
  type RunTrainingJob,
  type HeadTrainingJob,
  type HeadTrainingResult,
  type BackendInfo,
  type PredictionJob,
  type ExperimentServices,
} from './services.js';
export {
  resolveConfigPath,
  loadExperimentData,
  sampleShots,
  type TargetData,
  type ExperimentData,
} from './experiment-data.js';
export { planRuns, type RunSpec } from './run-plan.js';
export { ExperimentLayout, readMarker, writeMarker } from './layout.js';
export { GridProgress } from './progress.js';
export { selectStrategies, type SelectedStrategy } from './strategies.js';
export { prepareExperiment, type ExperimentContext, type PrepareOptions } from './experiment-context.js';
export { sha256File } from './file-hash.js';
export { trainLinearProbe, type LinearProbeOptions, type LinearProbeJob } from './linear-probe.js';
export { headSettings, ensureHead, type HeadSettings, type HeadDoneMarker, type SharedHead } from './head-step.js';
export { finishedRun, runMarker, ensureRun, type RunInit, type RunHead, type RunDoneMarker } from './train-step.js';
export { ensureModel, type ModelDoneMarker } from './model-step.js';
export { ensureEvaluation, type EvaluationMarker } from './evaluate-step.js';
export {
  xltVersion,
  xltCommit,
  dataFiles,
  modelFiles,
  writeProvenance,
  type PhaseTime,
  type PhaseTimes,
  type HashedFile,
  type Provenance,
} from './provenance.js';
export { runExperiment, type RunExperimentOptions, type ExperimentOutcome } from './runner.js';
export { SHARED_HEAD_FILE, backendThreads, engineServices } from './engine-services.js';
export { runCommand, trainCommand, evaluateCommand, type ServicesFactory } from './commands.js';
export { experimentModule } from './experiment-module.js';
