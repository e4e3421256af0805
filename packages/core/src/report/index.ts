/**
 * Results of an experiment: the robustness summary and the `json`, `csv` and `html-report` sinks.
 * @packageDocumentation
 */
export { mainMetric, metricsOf, summarize, headProtocolLine, summaryTable, type StrategySummary } from './summary.js';
export { jsonSink } from './json-sink.js';
export { csvField, recordsToCsv, csvSink } from './csv-sink.js';
export { loadPlotly, renderReport } from './html-report.js';
export { htmlReportSink } from './html-report-sink.js';
