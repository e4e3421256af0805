import type { ResultRecord } from '@xlt/plugin-api';
import { caMinusLastView } from './ca-minus-last-view.js';
import type { RunCheckpointScores } from './checkpoint-scores.js';
import { countsView, type CountsView } from './counts-view.js';
import { hyperparameterView } from './hyperparameter-view.js';
import { COUNT_METRICS, scoreMetrics } from './metric-kinds.js';
import { overviewView } from './overview-view.js';
import { MEAN_OVER_TARGETS, languagesOf, strategiesOf } from './record-stats.js';
import { loadPlotly, PLOTLY_SRC } from './report-assets.js';
import { REPORT_SCRIPT, REPORT_STYLE } from './report-page-script.js';
import { strategyColours } from './strategy-colours.js';
import { headProtocolLine, summarize, type StrategySummary } from './summary.js';
import { trajectoryView } from './trajectory-view.js';

/** Options of {@link renderReport}. */
export interface RenderReportOptions {
  /**
   * Per-checkpoint target-dev scores of the runs (`readCheckpointScores` of the output folder), for the training
   * trajectory view; without them that view says what is missing.
   */
  readonly checkpointScores?: readonly RunCheckpointScores[];
  /**
   * Inline the chart library (4.8 MB) into the page, for a single-file report to send around. Default false: the
   * page loads `report-assets/plotly.min.js` beside it (`writeReportAssets`), so reports share one copy.
   */
  readonly inlineAssets?: boolean;
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** JSON safe inside a `<script>` element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
const fmt = (x: number | null | undefined, signed = false) => (x === undefined || x === null || !Number.isFinite(x) ? '–' : `${signed && x >= 0 ? '+' : ''}${x.toFixed(2)}`);
/** A count as a whole number when it is one (a mean over models may not be). */
const fmtCount = (x: number | null) => (x !== null && Number.isInteger(x) ? String(x) : fmt(x));
const swatch = (colour: string | undefined) => `<span class="swatch" style="background:${colour ?? '#444'}"></span>`;

function summaryTableHtml(metric: string, summaries: readonly StrategySummary[], languages: readonly string[], colours: Record<string, string>): string {
  const head = ['strategy', 'models', ...languages, 'mean', 'std', 'worst case', 'gap to oracle'].map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const rows = summaries.map((s) => {
    const name = `${swatch(colours[s.strategy])}${escapeHtml(s.strategy)}${s.oracle ? ' <span class="badge">ORACLE</span>' : ''}`;
    const cells = [String(s.models), ...languages.map((l) => fmt(s.perLanguage[l])), fmt(s.mean), fmt(s.std), fmt(s.worst), s.oracle ? 'oracle' : fmt(s.gapToOracle, true)];
    return `<tr class="${s.oracle ? 'oracle' : ''}" data-strategy="${escapeHtml(s.strategy)}"><td>${name}</td>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;
  });
  return `<table class="summary-table" data-metric="${escapeHtml(metric)}"><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function countsHtml(view: CountsView, colours: Record<string, string>): string {
  if (view.metrics.length === 0) return `<p class="note">The task reported no counts (${COUNT_METRICS.join(', ')}, ...).</p>`;
  const head = ['strategy', 'models', ...view.languages, 'total'].map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  return view.metrics
    .map(({ metric, rows }) => {
      const body = rows.map((r) => {
        const cells = [String(r.models), ...r.perLanguage.map(fmtCount), fmtCount(r.total)];
        return `<tr class="${r.oracle ? 'oracle' : ''}" data-strategy="${escapeHtml(r.strategy)}"><td>${swatch(colours[r.strategy])}${escapeHtml(r.strategy)}</td>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;
      });
      return `<h3>${escapeHtml(metric)}</h3><table class="counts-table" data-metric="${escapeHtml(metric)}"><thead><tr>${head}</tr></thead><tbody>${body.join('')}</tbody></table>`;
    })
    .join('\n');
}

const TABS: readonly [string, string][] = [
  ['overview', 'Overview'],
  ['trajectory', 'Over training'],
  ['delta', 'CA − last per run'],
  ['hyper', 'By hyperparameter'],
  ['counts', 'Counts'],
];

/**
 * The HTML report, in five views (tabs): an overview (per-language bars, the spread of each strategy over the grid,
 * and per score metric mean, std, worst case and gap to the oracle), the main metric over training (last, the
 * oracle, checkpoint averaging), checkpoint averaging minus last per run, the score by each hyperparameter of the
 * grid, and the count metrics. Each strategy has one colour throughout; oracles are marked everywhere. The chart
 * library is referenced as `report-assets/plotly.min.js` (written by `writeReportAssets`) or, with
 * `inlineAssets`, inlined.
 */
export async function renderReport(records: readonly ResultRecord[], options: RenderReportOptions = {}): Promise<string> {
  const metric = scoreMetrics(records)[0];
  const experiment = records[0]?.experiment ?? 'experiment';
  const languages = languagesOf(records);
  const colours = strategyColours(strategiesOf(records));
  const scriptTag = options.inlineAssets ? `<script>${(await loadPlotly()).replace(/<\/script/gi, '<\\/script')}</script>` : `<script src="${PLOTLY_SRC}"></script>`;
  let body = '<p>No results.</p>';
  if (metric) {
    const trajectory = trajectoryView(records, options.checkpointScores ?? [], metric);
    const caMinusLast = caMinusLastView(records, metric);
    const hyperparameters = hyperparameterView(records, metric);
    const data = { meanKey: MEAN_OVER_TARGETS, colours, overview: overviewView(records, metric), trajectory, caMinusLast, hyperparameters };
    const tables = scoreMetrics(records)
      .map((m) => `<h3>${escapeHtml(m)}</h3>${summaryTableHtml(m, summarize(records, m), languages, colours)}`)
      .join('\n');
    const trajectoryNote = !trajectory
      ? '<p class="note">No per-checkpoint scores: the runner scores each checkpoint on the targets\' dev data when an oracle strategy runs and the targets have dev data, else on the source language\'s dev data when the experiment has it (and the report finds them in <code>runs/*/done.json</code> beside it).</p>'
      : trajectory.data === 'source dev'
        ? `<p class="note">The targets have no dev data, so these are scores on the <b>source language's dev data</b> after each checkpoint, what a zero-shot user can see, mean over ${trajectory.runs.length} runs: <b>last</b> at k is checkpoint k itself, <b>best-source-dev</b> up to k the best of checkpoints 1..k on source dev.${trajectory.prefixAverage ? ' <b>Checkpoint averaging</b> at k averages checkpoints 1..k.' : ''} Diamonds: the test scores of results.json at the end of training, averaged over the target languages.</p>`
        : `<p class="note">Scores on the target languages' dev data after each checkpoint, mean over ${trajectory.runs.length} runs: <b>last</b> at k is checkpoint k itself, the <b>oracle</b> up to k the best of checkpoints 1..k (per language, as the oracle selects). Diamonds: the test scores of results.json at the end of training.${trajectory.prefixAverage ? ' <b>Checkpoint averaging</b> at k averages checkpoints 1..k.' : ' Checkpoint averaging over the first k checkpoints is not recorded by the runner, so it shows only at the end (its test score).'}</p>`;
    body = `<nav class="tabs" role="tablist">${TABS.map(([id, label]) => `<button type="button" role="tab" data-view="${id}" aria-selected="false">${escapeHtml(label)}</button>`).join('')}</nav>
<section id="view-overview" class="view">
<div id="plot-languages" class="plot"></div>
<div id="plot-spread" class="plot"></div>
${tables}
<p class="note">Score metrics only (counts are under Counts). Mean, std and worst case are over models (runs, or groups of runs for across-run strategies) of the score averaged over target languages. Gap to oracle: mean minus the best oracle's mean. <span class="badge">ORACLE</span> rows select with target-language dev data, which zero-shot transfer does not have: an upper reference, not a result.</p>
</section>
<section id="view-trajectory" class="view" hidden>
${trajectory ? '<label for="trajectory-language">' + (trajectory.data === 'source dev' ? 'Test scores' : 'Target language') + '</label><select id="trajectory-language"></select>\n<div id="plot-trajectory" class="plot"></div>\n<table id="trajectory-table"></table>\n<table id="trajectory-finals"></table>\n' : ''}${trajectoryNote}
</section>
<section id="view-delta" class="view" hidden>
${caMinusLast ? `<label for="delta-language">Target language</label><select id="delta-language"></select>\n<div id="plot-delta" class="plot"></div>\n<table id="delta-table"></table>\n<p class="note">${escapeHtml(caMinusLast.ca)} minus ${escapeHtml(caMinusLast.last)} of the same run, on the test data of results.json: above zero, averaging the run's checkpoints beat its last checkpoint. Dashed line: the mean over runs.</p>` : '<p class="note">Needs both <code>checkpoint-average</code> and <code>last</code> in the results.</p>'}
</section>
<section id="view-hyper" class="view" hidden>
${hyperparameters.axes.length > 0 ? '<label for="hyper-axis">Hyperparameter</label><select id="hyper-axis"></select>\n<div id="plot-hyper" class="plot"></div>\n<table id="hyper-table"></table>\n<p class="note">Each point is one model\'s score averaged over the target languages; the table gives the mean per value. Across-run strategies appear on the axes their groups share (with <code>runGroups: seeds</code>, every axis but the seed).</p>' : '<p class="note">Every model ran with the same hyperparameters: no axis to break down.</p>'}
</section>
<section id="view-counts" class="view" hidden>
${countsHtml(countsView(records), colours)}
<p class="note">Counts, not scores: per language the mean over models, and the total over languages. Not ranked, so no worst case or gap to the oracle.</p>
</section>
<script id="xlt-data" type="application/json">${scriptJson(data)}</script>
<script>${REPORT_SCRIPT}</script>`;
  }
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(experiment)}: xlt report</title>
<style>${REPORT_STYLE}</style>${metric ? scriptTag : ''}</head>
<body><h1>${escapeHtml(experiment)}</h1>
<p>Task <b>${escapeHtml(records[0]?.task ?? '')}</b>, ${languages.length} target language${languages.length === 1 ? '' : 's'}, ${new Set(records.map((r) => r.strategy)).size} strategies${metric ? `, main metric <b>${escapeHtml(metric)}</b>` : ''}.</p>
${headProtocolLine(records) ? `<p class="head-protocol">${escapeHtml(headProtocolLine(records)!)}</p>\n` : ''}${body}
</body></html>
`;
}
