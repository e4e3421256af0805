/** The report's style sheet. */
export const REPORT_STYLE = `body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1280px}
table{border-collapse:collapse;margin:1em 0}th,td{padding:.3em .7em;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}tr.oracle{background:#fff4e0;font-style:italic}
.badge{background:#d62728;color:#fff;border-radius:3px;padding:0 .4em;font-size:.8em;font-style:normal}
.swatch{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:.4em;vertical-align:baseline}
nav.tabs{display:flex;gap:.3em;border-bottom:2px solid #ccc;margin:1.5em 0 1em}
nav.tabs button{font:inherit;border:1px solid #ccc;border-bottom:none;background:#f4f4f4;padding:.4em .9em;cursor:pointer;border-radius:4px 4px 0 0}
nav.tabs button[aria-selected=true]{background:#fff;font-weight:600;position:relative;top:2px}
.plot{width:100%;height:480px}.note{color:#666}label{margin-right:.5em}tfoot td{font-weight:600;border-top:2px solid #999}`;

/**
 * The report's page script: reads the views from the `xlt-data` JSON element, switches tabs (plotting each view
 * when first shown, so plots get their real size), and redraws a view's plot and table when its selector changes.
 * Every number a plot shows is also written into a table beside it.
 */
export const REPORT_SCRIPT = `'use strict';
const d = JSON.parse(document.getElementById('xlt-data').textContent);
const cfg = { responsive: true, displaylogo: false };
const colour = (s) => d.colours[s] || '#444';
const oracles = new Set(d.overview.strategies.filter((s) => s.oracle).map((s) => s.strategy));
const fmt = (x, signed) => (x === null || x === undefined || !isFinite(x) ? '\\u2013' : (signed && x >= 0 ? '+' : '') + x.toFixed(2));
const keyLabel = (k) => (k === d.meanKey ? 'mean over targets' : k);
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const strategyCell = (s) => '<td><span class="swatch" style="background:' + colour(s) + '"></span>' + esc(s) + '</td>';
const axisStyle = (title) => ({ title: { text: title }, automargin: true });
const margin = { l: 70, r: 30, t: 60, b: 40 };
function fillSelect(id, keys, label, onChange) {
  const el = document.getElementById(id);
  el.innerHTML = keys.map((k) => '<option value="' + esc(k) + '">' + esc(label(k)) + '</option>').join('');
  el.addEventListener('change', () => onChange(el.value));
  onChange(keys[0]);
}
const draw = {
  overview() {
    const o = d.overview;
    const bars = o.strategies.map((s) => ({ type: 'bar', name: s.strategy + (s.oracle ? ' (oracle)' : ''), x: o.languages, y: s.perLanguage,
      error_y: { type: 'data', array: s.perLanguageStd, visible: true }, marker: { color: colour(s.strategy), pattern: s.oracle ? { shape: '/' } : undefined } }));
    Plotly.newPlot('plot-languages', bars, { barmode: 'group', margin, title: { text: o.metric + ' per target language (mean over models, error bar: std)' },
      xaxis: axisStyle('target language'), yaxis: axisStyle(o.metric), legend: { orientation: 'h', y: -0.15 } }, cfg);
    const boxes = o.strategies.map((s) => ({ type: 'box', name: s.strategy + (s.oracle ? ' (oracle)' : ''), y: s.perRun, text: s.runs, boxpoints: 'all',
      jitter: 0.4, pointpos: 0, marker: { color: colour(s.strategy) }, line: { color: colour(s.strategy) }, hovertemplate: '%{text}: %{y:.2f}<extra></extra>' }));
    Plotly.newPlot('plot-spread', boxes, { margin, title: { text: 'Spread over the grid: language-averaged ' + o.metric + ' of each model' },
      xaxis: { automargin: true, tickangle: -30 }, yaxis: axisStyle(o.metric), showlegend: false }, cfg);
  },
  trajectory() {
    const t = d.trajectory;
    if (!t) return;
    fillSelect('trajectory-language', t.languages, keyLabel, (key) => {
      const lines = t.lines[key];
      const finals = t.finals[key] || [];
      const xEnd = t.x[t.x.length - 1];
      // The oracle dashed on top, so that where it equals last both stay visible.
      const traces = lines.map((l) => ({ type: 'scatter', mode: 'lines+markers', name: l.label, x: t.x, y: l.values, marker: { color: colour(l.strategy) },
        line: oracles.has(l.strategy) ? { color: colour(l.strategy), dash: 'dash', width: 2 } : { color: colour(l.strategy), width: 4 } }))
        .concat(finals.map((f) => ({ type: 'scatter', mode: 'markers', name: f.strategy + ' (test, final)', x: [xEnd], y: [f.value],
          marker: { symbol: 'diamond', size: 13, color: colour(f.strategy), line: { color: '#000', width: 1 } } })));
      const where = t.data === 'source dev' ? '' : ', ' + keyLabel(key);
      Plotly.react('plot-trajectory', traces, { margin, title: { text: t.metric + ' over training' + where + ' (' + t.data + '; mean over ' + t.runs.length + ' runs)' },
        xaxis: axisStyle(t.xTitle), yaxis: axisStyle(t.metric + ' on ' + t.data), legend: { orientation: 'h', y: -0.2 } }, cfg);
      const head = '<tr><th>' + esc(t.xTitle) + '</th>' + lines.map((l) => '<th>' + esc(l.strategy) + '</th>').join('') + '</tr>';
      const body = t.x.map((x, i) => '<tr><td>' + x + '</td>' + lines.map((l) => '<td>' + fmt(l.values[i]) + '</td>').join('') + '</tr>').join('');
      const test = finals.map((f) => '<tr class="final">' + strategyCell(f.strategy) + '<td>' + fmt(f.value) + '</td></tr>').join('');
      document.getElementById('trajectory-table').innerHTML = '<thead>' + head + '</thead><tbody>' + body + '</tbody>';
      document.getElementById('trajectory-finals').innerHTML = '<thead><tr><th>strategy</th><th>test ' + esc(t.metric) + ', ' + esc(keyLabel(key)) + '</th></tr></thead><tbody>' + test + '</tbody>';
    });
  },
  delta() {
    const v = d.caMinusLast;
    if (!v) return;
    fillSelect('delta-language', v.languages, keyLabel, (key) => {
      const diffs = v.differences[key];
      const m = v.mean[key];
      Plotly.react('plot-delta', [{ type: 'bar', name: v.ca + ' \\u2212 ' + v.last, x: v.runs, y: diffs, marker: { color: diffs.map((x) => (x >= 0 ? colour(v.ca) : colour(v.last))) },
        hovertemplate: '%{x}: %{y:+.2f}<extra></extra>' }], { margin, title: { text: v.ca + ' \\u2212 ' + v.last + ' per run, ' + keyLabel(key) + ' (mean ' + fmt(m, true) + ', CA ahead in ' + v.wins[key] + ' of ' + diffs.length + ')' },
        xaxis: { automargin: true, tickangle: -30 }, yaxis: axisStyle('\\u0394 ' + v.metric), showlegend: false,
        shapes: [{ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: m, y1: m, line: { color: '#000', dash: 'dash', width: 2 } }],
        annotations: [{ xref: 'paper', x: 1, y: m, xanchor: 'right', yanchor: 'bottom', text: 'mean ' + fmt(m, true), showarrow: false }] }, cfg);
      const body = v.runs.map((r, i) => '<tr><td>' + esc(r) + '</td><td>' + fmt(diffs[i], true) + '</td></tr>').join('');
      document.getElementById('delta-table').innerHTML = '<thead><tr><th>run</th><th>\\u0394 ' + esc(v.metric) + ', ' + esc(keyLabel(key)) + '</th></tr></thead><tbody>' + body +
        '</tbody><tfoot><tr><td>mean</td><td>' + fmt(m, true) + '</td></tr></tfoot>';
    });
  },
  hyper() {
    const h = d.hyperparameters;
    if (h.axes.length === 0) return;
    fillSelect('hyper-axis', h.axes.map((a) => a.name), (k) => k, (name) => {
      const axis = h.axes.find((a) => a.name === name);
      const traces = axis.strategies.map((s) => ({ type: 'box', name: s.strategy, x: s.points.map((p) => p.value), y: s.points.map((p) => p.score), text: s.points.map((p) => p.run),
        boxpoints: 'all', jitter: 0.3, pointpos: 0, marker: { color: colour(s.strategy) }, line: { color: colour(s.strategy) }, hovertemplate: '%{text}: %{y:.2f}<extra></extra>' }));
      Plotly.react('plot-hyper', traces, { boxmode: 'group', margin, title: { text: 'Language-averaged ' + h.metric + ' of each model by ' + name },
        xaxis: Object.assign(axisStyle(name), { type: 'category', categoryarray: axis.values, categoryorder: 'array' }), yaxis: axisStyle(h.metric), legend: { orientation: 'h', y: -0.2 } }, cfg);
      const head = '<tr><th>strategy</th>' + axis.values.map((x) => '<th>' + esc(name) + '=' + esc(x) + '</th>').join('') + '</tr>';
      const body = axis.strategies.map((s) => '<tr>' + strategyCell(s.strategy) + s.means.map((x) => '<td>' + fmt(x) + '</td>').join('') + '</tr>').join('');
      document.getElementById('hyper-table').innerHTML = '<thead>' + head + '</thead><tbody>' + body + '</tbody>';
    });
  },
  counts() {},
};
const drawn = {};
function show(view) {
  for (const b of document.querySelectorAll('nav.tabs button')) b.setAttribute('aria-selected', String(b.dataset.view === view));
  for (const s of document.querySelectorAll('section.view')) s.hidden = s.id !== 'view-' + view;
  if (!drawn[view]) {
    drawn[view] = true;
    draw[view]();
  }
}
for (const b of document.querySelectorAll('nav.tabs button')) b.addEventListener('click', () => show(b.dataset.view));
show('overview');`;
