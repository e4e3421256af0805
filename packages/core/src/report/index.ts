/**
 * Results of an experiment: the robustness summary and the `json`, `csv` and `html-report` sinks.
 * @packageDocumentation
 */
export * from './summary.js';
export * from './json-sink.js';
export * from './csv-sink.js';
export * from './html-report.js';
export * from './html-report-sink.js';
