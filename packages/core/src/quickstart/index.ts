/**
 * The offline quickstart: a synthetic POS benchmark, a tiny random encoder and the whole protocol on the CPU.
 * @packageDocumentation
 */
export { SyntheticBenchmark, toConllu, type SyntheticSentence, type SyntheticLanguage } from './synthetic-benchmark.js';
export { writeTinyEncoder } from './tiny-encoder.js';
export { QUICKSTART_TARGETS, writeQuickstart, runQuickstart, type QuickstartOptions } from './quickstart.js';
export { quickstartCommand } from './quickstart-command.js';
export { quickstartModule } from './quickstart-module.js';
