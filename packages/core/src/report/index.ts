/**
 * Results of an experiment: the robustness summary, the views of the HTML report and the `json`, `csv` and
 * `html-report` sinks.
 * @packageDocumentation
 */
export { mainMetric, metricsOf, summarize, headProtocolLine, summaryTable, type StrategySummary } from './summary.js';
export { jsonSink } from './json-sink.js';
export { csvField, recordsToCsv, csvSink } from './csv-sink.js';
export { COUNT_METRICS, isCountMetric, scoreMetrics, countMetrics } from './metric-kinds.js';
export { STRATEGY_COLOURS, strategyColours, type ColouredStrategy } from './strategy-colours.js';
export { readCheckpointScores, type CheckpointScores, type RunCheckpointScores } from './checkpoint-scores.js';
export { MEAN_OVER_TARGETS, modelScores, strategiesOf, type ModelScores, type ReportStrategy } from './record-stats.js';
export { overviewView, type OverviewView, type OverviewStrategy } from './overview-view.js';
export { trajectoryView, type TrajectoryView, type TrajectoryLine, type TrajectoryFinal } from './trajectory-view.js';
export { caMinusLastView, type CaMinusLastView } from './ca-minus-last-view.js';
export { hyperparameterView, type HyperparameterView, type HyperparameterAxis, type AxisStrategy } from './hyperparameter-view.js';
export { countsView, type CountsView, type CountRow } from './counts-view.js';
export { REPORT_ASSETS_DIR, PLOTLY_FILE, PLOTLY_SRC, loadPlotly, writeReportAssets } from './report-assets.js';
export { renderReport, type RenderReportOptions } from './html-report.js';
export { htmlReportSink, createHtmlReportSink, type HtmlReportSinkOptions } from './html-report-sink.js';
