/**
 * `@xlt/core`: the runtime of xlt on top of `@xlt/plugin-api` (which holds the extension points, the engine and
 * safetensors I/O): experiment config, encoders, tokenizers, TF.js backends, trainer, model folders, the experiment
 * runner, results sinks and the `xlt` CLI. Every name is listed here or in the index of its folder.
 * @packageDocumentation
 */
import 'reflect-metadata';

export {
  pluginRef,
  strategyRef,
  languageData,
  gridSchema,
  headSchema,
  trainingSchema,
  experimentSchema,
  type PluginRef,
  type StrategyRef,
  type HeadConfig,
  type ExperimentConfig,
} from './config/experiment-schema.js';
export {
  validateExperiment,
  loadExperiment,
  parseExperiment,
  resolveRef,
  duplicateStrategyNames,
  optionsLabel,
  strategyEntries,
  type StrategyEntry,
} from './config/load-experiment.js';
export { formatDuration } from './util/duration.js';
export * from './torch-bin/index.js';
export * from './model/index.js';
export { resolveModel, modelCacheFolder, type ResolveModelOptions } from './hub/resolve-model.js';
export * from './tokenizer/index.js';
export * from './trainer/index.js';
export * from './experiment/index.js';
export * from './report/index.js';
export * from './quickstart/index.js';
export { coreModule } from './core-module.js';
export { runCli, buildProgram, loadCliEngine, type ProgramOptions } from './cli/program.js';
export { listPlugins, probeBackends } from './cli/plugins-command.js';
export { scoreFile, type ScoreOptions } from './cli/score-command.js';
export { discoverPluginPackages, importPluginModule, type PluginPackage } from './cli/discover.js';
