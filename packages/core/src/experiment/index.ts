/**
 * The experiment of `xlt run`: the shared head, grid x seeds, resumable training, every strategy, evaluation on
 * every target language, results and provenance. Steps are behind {@link ExperimentServices} so the protocol is
 * independent of the backend.
 * @packageDocumentation
 */
export * from './grid.js';
export * from './services.js';
export * from './experiment-data.js';
export * from './run-plan.js';
export * from './layout.js';
export * from './progress.js';
export * from './strategies.js';
export * from './experiment-context.js';
export * from './file-hash.js';
export * from './linear-probe.js';
export * from './head-step.js';
export * from './train-step.js';
export * from './model-step.js';
export * from './evaluate-step.js';
export * from './provenance.js';
export * from './runner.js';
export * from './engine-services.js';
export * from './commands.js';
export * from './experiment-module.js';
