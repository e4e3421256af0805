import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { ResultRecord } from '@xlt/plugin-api';
import { headProtocolLine, mainMetric, metricsOf, summarize, type StrategySummary } from './summary.js';

let plotlySource: Promise<string> | undefined;

/** The plotly bundle's text, read once from the installed `plotly.js-dist-min` so the report needs no network. */
export function loadPlotly(): Promise<string> {
  plotlySource ??= readFile(createRequire(import.meta.url).resolve('plotly.js-dist-min/plotly.min.js'), 'utf8');
  return plotlySource;
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** JSON safe inside a `<script>` element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
const fmt = (x: number | undefined, signed = false) => (x === undefined || !Number.isFinite(x) ? '–' : `${signed && x >= 0 ? '+' : ''}${x.toFixed(2)}`);

function summaryTableHtml(summaries: readonly StrategySummary[], languages: readonly string[]): string {
  const head = ['strategy', 'models', ...languages, 'mean', 'std', 'worst case', 'gap to oracle'].map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const rows = summaries.map((s) => {
    const name = `${escapeHtml(s.strategy)}${s.oracle ? ' <span class="badge">ORACLE</span>' : ''}`;
    const cells = [String(s.models), ...languages.map((l) => fmt(s.perLanguage[l])), fmt(s.mean), fmt(s.std), fmt(s.worst), s.oracle ? 'oracle' : fmt(s.gapToOracle, true)];
    return `<tr class="${s.oracle ? 'oracle' : ''}"><td>${name}</td>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;
  });
  return `<table><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** What the page script plots: for the main metric, per strategy the per-language means and the models' averages. */
function plotData(records: readonly ResultRecord[], metric: string) {
  const summaries = summarize(records, metric);
  const languages = [...new Set(records.map((r) => r.language))];
  return {
    metric,
    languages,
    strategies: summaries.map((s) => {
      const rows = records.filter((r) => r.metric === metric && r.strategy === s.strategy);
      const runs = [...new Set(rows.map((r) => r.run))];
      const perRun = runs.map((run) => {
        const vs = rows.filter((r) => r.run === run).map((r) => r.value);
        return vs.reduce((a, b) => a + b, 0) / vs.length;
      });
      const perLanguageStd = languages.map((l) => {
        const vs = rows.filter((r) => r.language === l).map((r) => r.value);
        if (vs.length < 2) return 0;
        const m = vs.reduce((a, b) => a + b, 0) / vs.length;
        return Math.sqrt(vs.reduce((a, v) => a + (v - m) ** 2, 0) / (vs.length - 1));
      });
      return { name: s.oracle ? `${s.strategy} (oracle)` : s.strategy, oracle: s.oracle, perLanguage: languages.map((l) => s.perLanguage[l] ?? null), perLanguageStd, runs, perRun };
    }),
  };
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:1em 0}th,td{padding:.3em .7em;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}tr.oracle{background:#fff4e0;font-style:italic}
.badge{background:#d9822b;color:#fff;border-radius:3px;padding:0 .4em;font-size:.8em;font-style:normal}
.plot{width:100%;height:460px}.note{color:#666}`;

const SCRIPT = `const d = JSON.parse(document.getElementById('xlt-data').textContent);
const bars = d.strategies.map((s) => ({ type: 'bar', name: s.name, x: d.languages, y: s.perLanguage,
  error_y: { type: 'data', array: s.perLanguageStd, visible: true },
  marker: s.oracle ? { pattern: { shape: '/' }, opacity: 0.6 } : {} }));
Plotly.newPlot('plot-languages', bars, { barmode: 'group', title: { text: d.metric + ' per target language (mean over runs, error bar: std)' },
  yaxis: { title: { text: d.metric } }, legend: { orientation: 'h' } }, { responsive: true, displaylogo: false });
const boxes = d.strategies.map((s) => ({ type: 'box', name: s.name, y: s.perRun, text: s.runs, boxpoints: 'all', jitter: 0.4,
  pointpos: 0, hovertemplate: '%{text}: %{y:.2f}<extra></extra>', marker: { color: s.oracle ? '#d9822b' : undefined } }));
Plotly.newPlot('plot-spread', boxes, { title: { text: 'Spread over the grid: language-averaged ' + d.metric + ' of each model' },
  yaxis: { title: { text: d.metric } }, showlegend: false }, { responsive: true, displaylogo: false });`;

/**
 * A self-contained HTML report (plotly inlined, no network): per-language scores of every strategy as grouped
 * bars, the spread of each strategy over the grid as box plots with every model as a point, and per metric a
 * table of mean, standard deviation, worst case and gap to the oracle. Oracle strategies are marked everywhere.
 */
export async function renderReport(records: readonly ResultRecord[]): Promise<string> {
  const metric = mainMetric(records);
  const experiment = records[0]?.experiment ?? 'experiment';
  const languages = [...new Set(records.map((r) => r.language))];
  const tables = metricsOf(records)
    .map((m) => `<h2>${escapeHtml(m)}</h2>${summaryTableHtml(summarize(records, m), languages)}`)
    .join('\n');
  const plotly = (await loadPlotly()).replace(/<\/script/gi, '<\\/script');
  const body = metric
    ? `<div id="plot-languages" class="plot"></div>\n<div id="plot-spread" class="plot"></div>\n${tables}
<p class="note">Mean, std and worst case are over models (runs, or groups of runs for across-run strategies) of the score averaged over target languages. Gap to oracle: mean minus the best oracle's mean. <span class="badge">ORACLE</span> rows select with target-language dev data, which zero-shot transfer does not have: an upper reference, not a result.</p>
<script id="xlt-data" type="application/json">${scriptJson(plotData(records, metric))}</script>
<script>${SCRIPT}</script>`
    : '<p>No results.</p>';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(experiment)}: xlt report</title>
<style>${STYLE}</style><script>${plotly}</script></head>
<body><h1>${escapeHtml(experiment)}</h1>
<p>Task <b>${escapeHtml(records[0]?.task ?? '')}</b>, ${languages.length} target language${languages.length === 1 ? '' : 's'}, ${new Set(records.map((r) => r.strategy)).size} strategies.</p>
${headProtocolLine(records) ? `<p class="head-protocol">${escapeHtml(headProtocolLine(records)!)}</p>\n` : ''}${body}
</body></html>
`;
}
