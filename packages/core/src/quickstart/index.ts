/**
 * The offline quickstart: a synthetic POS benchmark, a tiny random encoder and the whole protocol on the CPU.
 * @packageDocumentation
 */
export * from './synthetic-benchmark.js';
export * from './tiny-encoder.js';
export * from './quickstart.js';
export * from './quickstart-command.js';
export * from './quickstart-module.js';
