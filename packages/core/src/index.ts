/**
 * `@xlt/core`: the engine of xlt. Extension points (each a symbol plus an interface of the same name), the
 * dependency-injected {@link Engine}, experiment config loading, file utilities and the `xlt` CLI frame.
 * @packageDocumentation
 */
import 'reflect-metadata';

export * from './config/experiment-schema.js';
export * from './config/load-experiment.js';
export * from './util/duration.js';
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
export { scoreFile, type ScoreOptions } from './cli/score-command.js';
export { discoverPluginPackages, importPluginModule, type PluginPackage } from './cli/discover.js';
