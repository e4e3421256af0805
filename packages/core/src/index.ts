/**
 * `@xlt/core`: the engine of xlt. Extension points (each a symbol plus an interface of the same name), the
 * dependency-injected {@link Engine}, experiment config loading, file utilities and the `xlt` CLI frame.
 * @packageDocumentation
 */
import 'reflect-metadata';

export * from './errors.js';
export * from './plugins/plugin.js';
export * from './plugins/task.js';
export * from './plugins/tokenizer.js';
export * from './plugins/encoder.js';
export * from './plugins/backend.js';
export * from './plugins/trainer.js';
export * from './plugins/averaging.js';
export * from './plugins/results.js';
export * from './engine/command.js';
export * from './engine/registry.js';
export * from './engine/engine.js';
export * from './config/document.js';
export * from './config/issues.js';
export * from './config/experiment-schema.js';
export * from './config/load-experiment.js';
export * from './util/files.js';
export * from './util/random.js';
export * from './util/duration.js';
export * from './safetensors/index.js';
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
export { listPlugins } from './cli/plugins-command.js';
export { scoreFile, parseKeyValues, type ScoreOptions } from './cli/score-command.js';
export { positiveInt, nonNegativeInt, integer, positiveNumber, oneOf, type FlagParser } from './cli/flag-parsers.js';
export { discoverPluginPackages, importPluginModule, type PluginPackage } from './cli/discover.js';
