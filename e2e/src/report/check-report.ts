import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { isCountMetric } from '@xlt/core';

/** Chromium as Debian installs it (`.ci/run` installs the `chromium` package). */
export const CHROMIUM = '/usr/bin/chromium';

interface Row {
  readonly run: string;
  readonly strategy: string;
  readonly strategyId?: string;
  readonly language: string;
  readonly metric: string;
  readonly value: number;
  readonly oracle: boolean;
  readonly hyperparameters?: Record<string, unknown>;
}

/** How many numbers of each view {@link checkReportAgainstResults} compared with results.json (and the runs' `done.json`). */
export interface ReportCheck {
  readonly mainMetric: string;
  readonly summaryCells: number;
  /** 0 when the runs recorded no per-checkpoint target-dev scores (then the view's note is checked instead). */
  readonly trajectoryCells: number;
  readonly deltaCells: number;
  readonly hyperparameterCells: number;
  readonly countCells: number;
  /** Axes of the hyperparameter view. */
  readonly axes: readonly string[];
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: readonly number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));
const MEAN_LABEL = 'mean over targets';

/** Per model (record `run`) of one strategy and metric: score per language and the language average. */
function models(rows: readonly Row[], strategy: string, metric: string) {
  const byRun = new Map<string, Row[]>();
  for (const r of rows) if (r.strategy === strategy && r.metric === metric) byRun.set(r.run, [...(byRun.get(r.run) ?? []), r]);
  return [...byRun].map(([run, rs]) => ({ run, hyperparameters: rs[0]!.hyperparameters ?? {}, perLanguage: Object.fromEntries(rs.map((r) => [r.language, r.value])) as Record<string, number>, average: mean(rs.map((r) => r.value)) }));
}

/** Expects a cell's text to show `expected` to 2 decimals (a dash for none). */
function expectCell(text: string | undefined, expected: number | undefined, where: string): void {
  if (expected === undefined || !Number.isFinite(expected)) {
    expect(text, where).toBe('–');
    return;
  }
  const shown = Number(text?.replace('−', '-'));
  expect(Number.isFinite(shown), `${where}: "${text}" is no number`).toBe(true);
  expect(Math.abs(shown - expected), `${where}: shows ${text}, results say ${expected}`).toBeLessThanOrEqual(0.005 + 1e-9);
}

const tableCells = (page: Page, selector: string): Promise<string[][]> =>
  page.locator(`${selector} tr`).evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => (c.textContent ?? '').trim())));

/** The strategy entry a view compares: the one named after the plugin id, else the first entry of that id. */
function entry(rows: readonly Row[], id: string): string | undefined {
  return rows.find((r) => r.strategy === id)?.strategy ?? rows.find((r) => r.strategyId === id)?.strategy;
}

/** Per-checkpoint target-dev scores of the runs beside results.json (`runs/<run>/done.json`). */
async function checkpointScores(outDir: string, metric: string) {
  const runsDir = join(outDir, 'runs');
  if (!existsSync(runsDir)) return [];
  type Scores = Record<string, Record<string, number>>;
  const out: { run: string; checkpoints: { step: number; targetDev: Scores; prefixAverageTargetDev?: Scores }[] }[] = [];
  for (const run of (await readdir(runsDir)).sort()) {
    const file = join(runsDir, run, 'done.json');
    if (!existsSync(file)) continue;
    const done = JSON.parse(await readFile(file, 'utf8')) as { run: string; checkpoints: { step: number; targetDev?: Scores; prefixAverageTargetDev?: Scores }[] };
    if (done.checkpoints.length === 0 || !done.checkpoints.every((c) => c.targetDev && Object.values(c.targetDev).some((m) => typeof m[metric] === 'number'))) continue;
    out.push({ run: done.run, checkpoints: [...done.checkpoints].sort((a, b) => a.step - b.step) as { step: number; targetDev: Scores; prefixAverageTargetDev?: Scores }[] });
  }
  return out;
}

/** The runs whose every checkpoint has a source-dev score for the metric (the trajectory without target dev data). */
async function sourceCheckpointScores(outDir: string, metric: string) {
  const runsDir = join(outDir, 'runs');
  if (!existsSync(runsDir)) return [];
  type Checkpoint = { step: number; sourceDev: Record<string, number>; prefixAverageSourceDev?: Record<string, number> };
  const out: { run: string; checkpoints: Checkpoint[] }[] = [];
  for (const run of (await readdir(runsDir)).sort()) {
    const file = join(runsDir, run, 'done.json');
    if (!existsSync(file)) continue;
    const done = JSON.parse(await readFile(file, 'utf8')) as { run: string; checkpoints: Partial<Checkpoint>[] };
    if (done.checkpoints.length === 0 || !done.checkpoints.every((c) => typeof c.sourceDev?.[metric] === 'number')) continue;
    out.push({ run: done.run, checkpoints: ([...done.checkpoints] as Checkpoint[]).sort((a, b) => a.step - b.step) });
  }
  return out;
}

/**
 * Opens an experiment's `report.html` in headless Chromium (from `file://`, no network), clicks through every view
 * (tabs, and every option of each language or hyperparameter selector) and compares each number the report's
 * tables show with `results.json` (and, for the training trajectory, with the runs' `done.json` beside it),
 * computed here independently of the report code. Also checks: the chart library is loaded from a file beside
 * the report (or inlined) and no request leaves the machine, no console error, each strategy has one colour in
 * every plot and the oracle's is nobody else's, box labels lie inside their figure, counts have their own table
 * and no summary (worst case, gap to oracle). Throws (a vitest assertion) at the first mismatch.
 */
export async function checkReportAgainstResults(htmlPath: string, resultsJsonPath: string): Promise<ReportCheck> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: the report check needs Debian's chromium package (.ci/run installs it).`);
  const { records } = JSON.parse(await readFile(resultsJsonPath, 'utf8')) as { records: Row[] };
  const html = await readFile(htmlPath, 'utf8');
  const src = /<script src="([^"]+)"><\/script>/.exec(html)?.[1];
  if (src !== undefined) {
    expect(src, 'the chart library is referenced relative to the report').not.toMatch(/^(\/|[a-z]+:)/i);
    expect(existsSync(join(dirname(htmlPath), src)), `${src} beside the report`).toBe(true);
  } else {
    expect(html, 'no script src: the chart library must be inlined').toMatch(/Plotly|plotly/);
  }
  const metrics = [...new Set(records.map((r) => r.metric))];
  const scores = metrics.filter((m) => !isCountMetric(m));
  const counts = metrics.filter(isCountMetric);
  const metric = scores[0]!;
  const languages = [...new Set(records.map((r) => r.language))];
  const strategies = [...new Set(records.map((r) => r.strategy))];
  const oracles = new Set(records.filter((r) => r.oracle).map((r) => r.strategy));

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => !r.url().startsWith('file:') && !r.url().startsWith('data:') && requests.push(r.url()));
    await page.goto(pathToFileURL(htmlPath).href);
    await page.waitForSelector('#plot-spread .main-svg');
    // The traces plotly keeps on a plot's element: what it drew.
    const plotted = (id: string) => page.locator(`#${id}`).evaluate((el) => (el as unknown as { data: { name: string; marker?: { color?: unknown } }[] }).data.map((t) => ({ name: t.name, color: t.marker?.color })));

    // Overview: one summary table per score metric, numbers as results.json gives them.
    expect(await page.locator('table.summary-table').evaluateAll((ts) => ts.map((t) => t.getAttribute('data-metric'))), 'summary tables: score metrics only').toEqual(scores);
    let summaryCells = 0;
    for (const m of scores) {
      const table = await tableCells(page, `table.summary-table[data-metric="${m}"]`);
      expect(table[0], `${m} header`).toEqual(['strategy', 'models', ...languages, 'mean', 'std', 'worst case', 'gap to oracle']);
      const bestOracle = Math.max(...[...oracles].map((s) => mean(models(records, s, m).map((x) => x.average))));
      const names = [...new Set(records.filter((r) => r.metric === m).map((r) => r.strategy))];
      expect(table.length - 1, `${m} rows`).toBe(names.length);
      for (const s of names) {
        const row = table.find((r) => r[0]!.replace(/\s*ORACLE$/, '') === s);
        expect(row, `${m}: a row for ${s}`).toBeDefined();
        const ms = models(records, s, m);
        const avgs = ms.map((x) => x.average);
        expect(row![1], `${m} ${s} models`).toBe(String(ms.length));
        languages.forEach((l, i) => {
          const vs = ms.map((x) => x.perLanguage[l]).filter((v): v is number => v !== undefined);
          expectCell(row![2 + i], vs.length ? mean(vs) : undefined, `${m} ${s} ${l}`);
        });
        const at = 2 + languages.length;
        expectCell(row![at], mean(avgs), `${m} ${s} mean`);
        expectCell(row![at + 1], std(avgs), `${m} ${s} std`);
        expectCell(row![at + 2], Math.min(...avgs), `${m} ${s} worst`);
        if (oracles.has(s)) expect(row![at + 3]).toBe('oracle');
        else expectCell(row![at + 3], oracles.size ? mean(avgs) - bestOracle : undefined, `${m} ${s} gap`);
        summaryCells += 4 + languages.length;
      }
    }
    // One colour per strategy, the same in both plots; the oracle's is no one else's.
    const bars = await plotted('plot-languages');
    const boxes = await plotted('plot-spread');
    const colourOf = new Map(bars.map((t) => [t.name.replace(/ \(oracle\)$/, ''), t.color as string]));
    expect([...colourOf.keys()].sort()).toEqual([...strategies].sort());
    for (const b of boxes) expect(b.color, `${b.name}: box colour = bar colour`).toBe(colourOf.get(b.name.replace(/ \(oracle\)$/, '')));
    expect(new Set(colourOf.values()).size, 'a colour per strategy').toBe(strategies.length);
    // Box labels inside the figure.
    const figure = (await page.locator('#plot-spread .main-svg').first().boundingBox())!;
    const labels = await page.locator('#plot-spread .xtick text').evaluateAll((els) => els.map((e) => {
      const r = e.getBoundingClientRect();
      return { left: r.left as number, right: r.right as number, bottom: r.bottom as number };
    }));
    expect(labels.length).toBe(strategies.length);
    for (const l of labels) expect(l.bottom <= figure.y + figure.height + 0.5 && l.left >= figure.x - 0.5 && l.right <= figure.x + figure.width + 0.5, 'box label inside the figure').toBe(true);

    // Over training.
    await page.click('nav.tabs button[data-view="trajectory"]');
    const runs = await checkpointScores(dirname(resultsJsonPath), metric);
    let trajectoryCells = 0;
    const sourceRuns = runs.length === 0 ? await sourceCheckpointScores(dirname(resultsJsonPath), metric) : [];
    if (runs.length === 0 && sourceRuns.length === 0) {
      await expect.poll(() => page.locator('#view-trajectory').textContent()).toContain('No per-checkpoint scores');
    } else if (runs.length === 0) {
      // Targets without dev data: the trajectory on source dev, one option whose finals are means over the targets.
      await page.waitForSelector('#plot-trajectory .main-svg');
      await expect.poll(() => page.locator('#view-trajectory').textContent()).toContain("source language's dev data");
      const k = Math.min(...sourceRuns.map((r) => r.checkpoints.length));
      const runKeys = new Set(sourceRuns.map((r) => r.run));
      const options = await page.locator('#trajectory-language option').evaluateAll((os) => os.map((o) => o.textContent as string));
      expect(options).toEqual([MEAN_LABEL]);
      const table = await tableCells(page, '#trajectory-table');
      expect(table.length - 1, 'a row per checkpoint').toBe(k);
      const lastCol = table[0]!.indexOf(entry(records, 'last') ?? 'last');
      const bestCol = table[0]!.indexOf(entry(records, 'best-source-dev') ?? 'best-source-dev');
      const caAll = sourceRuns.every((r) => r.checkpoints.every((c) => typeof c.prefixAverageSourceDev?.[metric] === 'number'));
      const caCol = caAll ? table[0]!.indexOf(entry(records, 'checkpoint-average') ?? 'checkpoint-average') : -1;
      expect(lastCol, 'a last column').toBeGreaterThan(-1);
      expect(bestCol, 'a best-source-dev column').toBeGreaterThan(-1);
      if (caAll) expect(caCol, 'a checkpoint-average column').toBeGreaterThan(-1);
      for (let i = 0; i < k; i++) {
        expectCell(table[i + 1]![lastCol], mean(sourceRuns.map((r) => r.checkpoints[i]!.sourceDev[metric]!)), `source-dev trajectory last at checkpoint ${i + 1}`);
        expectCell(table[i + 1]![bestCol], mean(sourceRuns.map((r) => Math.max(...r.checkpoints.slice(0, i + 1).map((c) => c.sourceDev[metric]!)))), `source-dev trajectory best up to checkpoint ${i + 1}`);
        trajectoryCells += 2;
        if (caCol >= 0) {
          expectCell(table[i + 1]![caCol], mean(sourceRuns.map((r) => r.checkpoints[i]!.prefixAverageSourceDev![metric]!)), `source-dev trajectory CA of checkpoints 1..${i + 1}`);
          trajectoryCells++;
        }
      }
      for (const [name, cells] of (await tableCells(page, '#trajectory-finals')).slice(1)) {
        expectCell(cells, mean(models(records, name!, metric).filter((x) => runKeys.has(x.run)).map((x) => x.average)), `source-dev trajectory test score of ${name}`);
        trajectoryCells++;
      }
    } else {
      await page.waitForSelector('#plot-trajectory .main-svg');
      const k = Math.min(...runs.map((r) => r.checkpoints.length));
      const langs = Object.keys(runs[0]!.checkpoints[0]!.targetDev).filter((l) => runs.every((r) => r.checkpoints.slice(0, k).every((c) => typeof c.targetDev[l]?.[metric] === 'number')));
      const runKeys = new Set(runs.map((r) => r.run));
      const options = await page.locator('#trajectory-language option').evaluateAll((os) => os.map((o) => ({ value: o.getAttribute('value') as string, label: o.textContent as string })));
      expect(options.map((o) => o.label)).toEqual([MEAN_LABEL, ...langs]);
      for (const option of options) {
        await page.selectOption('#trajectory-language', option.value);
        const ls = option.label === MEAN_LABEL ? langs : [option.label];
        const own = (r: (typeof runs)[number], i: number) => mean(ls.map((l) => r.checkpoints[i]!.targetDev[l]![metric]!));
        const best = (r: (typeof runs)[number], i: number) => mean(ls.map((l) => Math.max(...r.checkpoints.slice(0, i + 1).map((c) => c.targetDev[l]![metric]!))));
        const table = await tableCells(page, '#trajectory-table');
        expect(table.length - 1, 'a row per checkpoint').toBe(k);
        const lastCol = table[0]!.indexOf(entry(records, 'last') ?? 'last');
        const oracleCol = table[0]!.findIndex((h) => oracles.has(h) || h === 'oracle-target-dev');
        // Checkpoint averaging over the first k checkpoints, when the runner recorded it (an oracle with merger).
        const caHeader = entry(records, 'checkpoint-average') ?? 'checkpoint-average';
        const caCol = runs.every((r) => r.checkpoints.every((c) => c.prefixAverageTargetDev)) ? table[0]!.indexOf(caHeader) : -1;
        if (runs.every((r) => r.checkpoints.every((c) => c.prefixAverageTargetDev))) expect(caCol, `a ${caHeader} column in the trajectory table`).toBeGreaterThan(-1);
        const prefix = (r: (typeof runs)[number], i: number) => mean(ls.map((l) => r.checkpoints[i]!.prefixAverageTargetDev![l]![metric]!));
        for (let i = 0; i < k; i++) {
          expectCell(table[i + 1]![lastCol], mean(runs.map((r) => own(r, i))), `trajectory ${option.label} last at checkpoint ${i + 1}`);
          expectCell(table[i + 1]![oracleCol], mean(runs.map((r) => best(r, i))), `trajectory ${option.label} oracle up to checkpoint ${i + 1}`);
          trajectoryCells += 2;
          if (caCol >= 0) {
            expectCell(table[i + 1]![caCol], mean(runs.map((r) => prefix(r, i))), `trajectory ${option.label} CA of checkpoints 1..${i + 1}`);
            trajectoryCells++;
          }
        }
        for (const [name, cells] of (await tableCells(page, '#trajectory-finals')).slice(1)) {
          const ms = models(records, name!, metric).filter((x) => runKeys.has(x.run));
          const expected = option.label === MEAN_LABEL ? mean(ms.map((x) => x.average)) : mean(ms.map((x) => x.perLanguage[option.label]!));
          expectCell(cells, expected, `trajectory ${option.label} test score of ${name}`);
          trajectoryCells++;
        }
      }
    }

    // CA − last per run.
    await page.click('nav.tabs button[data-view="delta"]');
    const ca = entry(records, 'checkpoint-average');
    const last = entry(records, 'last');
    let deltaCells = 0;
    if (ca && last) {
      await page.waitForSelector('#plot-delta .main-svg');
      const lastByRun = new Map(models(records, last, metric).map((x) => [x.run, x]));
      const pairs = models(records, ca, metric).filter((x) => lastByRun.has(x.run)).map((x) => ({ run: x.run, ca: x, last: lastByRun.get(x.run)! }));
      const options = await page.locator('#delta-language option').evaluateAll((os) => os.map((o) => ({ value: o.getAttribute('value') as string, label: o.textContent as string })));
      expect(options[0]!.label).toBe(MEAN_LABEL);
      for (const option of options) {
        await page.selectOption('#delta-language', option.value);
        const diff = (p: (typeof pairs)[number]) => (option.label === MEAN_LABEL ? p.ca.average - p.last.average : p.ca.perLanguage[option.label]! - p.last.perLanguage[option.label]!);
        const table = await tableCells(page, '#delta-table');
        expect(table.slice(1).map((r) => r[0]), `CA − last runs (${option.label})`).toEqual([...pairs.map((p) => p.run), 'mean']);
        pairs.forEach((p, i) => expectCell(table[i + 1]![1], diff(p), `CA − last ${p.run} ${option.label}`));
        expectCell(table.at(-1)![1], mean(pairs.map(diff)), `CA − last mean ${option.label}`);
        deltaCells += pairs.length + 1;
      }
    } else {
      await expect.poll(() => page.locator('#view-delta').textContent()).toContain('Needs both');
    }

    // By hyperparameter: every axis with two or more values.
    await page.click('nav.tabs button[data-view="hyper"]');
    const rows = records.filter((r) => r.metric === metric);
    const axisValues = new Map<string, Set<string>>();
    for (const r of rows) for (const [a, v] of Object.entries(r.hyperparameters ?? {})) axisValues.set(a, (axisValues.get(a) ?? new Set()).add(JSON.stringify(v)));
    const axes = [...axisValues].filter(([, v]) => v.size > 1).map(([a]) => a);
    let hyperparameterCells = 0;
    if (axes.length > 0) {
      await page.waitForSelector('#plot-hyper .main-svg');
      expect(await page.locator('#hyper-axis option').allTextContents()).toEqual(axes);
      for (const axis of axes) {
        await page.selectOption('#hyper-axis', axis);
        const table = await tableCells(page, '#hyper-table');
        const values = table[0]!.slice(1).map((h) => h.slice(axis.length + 1));
        expect(values.length, `${axis} values`).toBe(axisValues.get(axis)!.size);
        for (const row of table.slice(1)) {
          const ms = models(records, row[0]!, metric).filter((x) => x.hyperparameters[axis] !== undefined);
          expect(ms.length, `${row[0]} carries ${axis}`).toBeGreaterThan(0);
          values.forEach((v, i) => {
            const at = ms.filter((x) => String(x.hyperparameters[axis]) === v || Number(x.hyperparameters[axis]) === Number(v)).map((x) => x.average);
            expectCell(row[i + 1], at.length ? mean(at) : undefined, `${row[0]} at ${axis}=${v}`);
            hyperparameterCells++;
          });
        }
        const expectedRows = strategies.filter((s) => models(records, s, metric).some((x) => x.hyperparameters[axis] !== undefined));
        expect(table.slice(1).map((r) => r[0]), `strategies on ${axis}`).toEqual(expectedRows);
      }
    }

    // Counts: a table each, per language the mean over models, and the total; no worst case or gap to oracle.
    await page.click('nav.tabs button[data-view="counts"]');
    let countCells = 0;
    expect(await page.locator('table.counts-table').evaluateAll((ts) => ts.map((t) => t.getAttribute('data-metric')))).toEqual(counts);
    for (const m of counts) {
      const table = await tableCells(page, `table.counts-table[data-metric="${m}"]`);
      expect(table[0]).toEqual(['strategy', 'models', ...languages, 'total']);
      for (const row of table.slice(1)) {
        const ms = models(records, row[0]!, m);
        expect(row[1]).toBe(String(ms.length));
        const perLanguage = languages.map((l) => {
          const vs = ms.map((x) => x.perLanguage[l]).filter((v): v is number => v !== undefined);
          return vs.length ? mean(vs) : undefined;
        });
        perLanguage.forEach((v, i) => expectCell(row[2 + i], v, `${m} ${row[0]} ${languages[i]}`));
        expectCell(row.at(-1), perLanguage.reduce<number>((a, v) => a + (v ?? 0), 0), `${m} ${row[0]} total`);
        countCells += languages.length + 1;
      }
    }
    expect(errors, 'console errors').toEqual([]);
    expect(requests, 'requests off the machine').toEqual([]);
    return { mainMetric: metric, summaryCells, trajectoryCells, deltaCells, hyperparameterCells, countCells, axes };
  } finally {
    await browser.close();
  }
}
