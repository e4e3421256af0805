import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultRecord } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { createHtmlReportSink, htmlReportSink } from './html-report-sink.js';
import { renderReport } from './html-report.js';
import { fixtureCheckpointScores, fixtureRecords, FIXTURE_LANGUAGES, FIXTURE_RUNS } from './report-fixture.testing.js';
import { PLOTLY_SRC } from './report-assets.js';
import { STRATEGY_COLOURS } from './strategy-colours.js';
import { summarize } from './summary.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Cells of a table as text, row by row. */
const cells = (page: Page, selector: string) => page.locator(`${selector} tr`).evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => c.textContent!.trim())));
/** The traces plotly holds for a plot (what it drew). */
const traces = (page: Page, id: string) => page.locator(`#${id}`).evaluate((el) => (el as unknown as { data: { name: string; x?: unknown[]; y: unknown[]; marker?: { color?: unknown } }[] }).data);

describe('report.html', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let browser: Browser;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: the report test needs Debian's chromium package (.ci/run installs Debian \`chromium\`; locally: apt-get install chromium).`);
    }
    ({ dir, cleanup } = await tempDir('xlt-report-'));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await cleanup?.();
  });

  it('summarizes mean, std, worst case and gap to the oracle over language-averaged scores', () => {
    const rs: ResultRecord[] = [];
    const add = (strategy: string, run: string, language: string, value: number, oracle = false) =>
      rs.push({ experiment: 'e', task: 't', run, strategy, language, metric: 'acc', value, oracle });
    add('last', 'r1', 'de', 50); add('last', 'r1', 'ru', 70); // run average 60
    add('last', 'r2', 'de', 40); add('last', 'r2', 'ru', 60); // run average 50
    add('oracle', 'r1', 'de', 70, true); add('oracle', 'r1', 'ru', 80, true);
    const [last, oracle] = summarize(rs, 'acc');
    expect(last).toMatchObject({ strategy: 'last', models: 2, mean: 55, worst: 50, gapToOracle: -20, perLanguage: { de: 45, ru: 65 } });
    expect(last!.std).toBeCloseTo(Math.SQRT2 * 5, 10);
    expect(oracle).toMatchObject({ oracle: true, mean: 75, gapToOracle: 0 });
  });

  it('loads plotly once from report-assets/ beside it; inlineAssets makes one self-contained file', async () => {
    const files = await htmlReportSink.write(fixtureRecords(), dir);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(['report.html', PLOTLY_SRC]);
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    expect(html).toContain(`<script src="${PLOTLY_SRC}"></script>`);
    expect(html.length).toBeLessThan(200_000);
    const asset = await stat(join(dir, PLOTLY_SRC));
    expect(asset.size).toBeGreaterThan(1_000_000);
    await htmlReportSink.write(fixtureRecords(), dir); // a re-run leaves the same bundle alone
    expect((await stat(join(dir, PLOTLY_SRC))).mtimeMs).toBe(asset.mtimeMs);

    const single = join(dir, 'single');
    const [file] = await createHtmlReportSink({ inlineAssets: true }).write(fixtureRecords(), single);
    const inline = await readFile(file!, 'utf8');
    expect(inline).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    expect(inline.length).toBeGreaterThan(1_000_000);
    expect(existsSync(join(single, PLOTLY_SRC))).toBe(false);
    expect(await renderReport([])).toContain('No results.');
  });

  it('renders every view in headless Chromium from file://, tabs and selectors showing the fixture numbers', async () => {
    const out = join(dir, 'views');
    const { mkdir, writeFile } = await import('node:fs/promises');
    for (const r of fixtureCheckpointScores()) {
      await mkdir(join(out, 'runs', r.run), { recursive: true });
      await writeFile(join(out, 'runs', r.run, 'done.json'), JSON.stringify({ run: r.run, hyperparameters: r.hyperparameters, checkpoints: r.checkpoints.map((c) => ({ ...c, path: 'x', run: r.run })) }));
    }
    const records = fixtureRecords();
    const [file] = await htmlReportSink.write(records, out);
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    const requests: string[] = [];
    page.on('request', (r) => !r.url().startsWith('file:') && !r.url().startsWith('data:') && requests.push(r.url()));
    await page.goto(pathToFileURL(file!).href);
    await page.waitForSelector('#plot-spread .main-svg');
    expect(await page.locator('h1').textContent()).toBe('report <test>');

    // Overview: bars per strategy and language, one box point per model (4 runs x 3 per-run strategies + 2 RA groups).
    expect(await page.locator('#plot-languages .trace .point').count()).toBe(12);
    expect(await page.locator('#plot-spread .trace .point').count()).toBe(14);
    const colours = Object.fromEntries((await traces(page, 'plot-languages')).map((t) => [t.name, t.marker?.color]));
    expect(colours).toEqual({ last: STRATEGY_COLOURS['last'], 'checkpoint-average': STRATEGY_COLOURS['checkpoint-average'], 'run-average': STRATEGY_COLOURS['run-average'], 'oracle-target-dev (oracle)': STRATEGY_COLOURS['oracle-target-dev'] });
    // Box labels inside the figure (not cut off at its bottom edge).
    const figure = (await page.locator('#plot-spread .main-svg').first().boundingBox())!;
    const labels = page.locator('#plot-spread .xtick text');
    expect(await labels.count()).toBe(4);
    for (const box of await labels.evaluateAll((els) => els.map((e) => ({ left: e.getBoundingClientRect().left as number, bottom: e.getBoundingClientRect().bottom as number })))) {
      expect(box.bottom).toBeLessThanOrEqual(figure.y + figure.height + 0.5);
      expect(box.left).toBeGreaterThanOrEqual(figure.x - 0.5);
    }
    // Only the score metric has a summary table; the count has its own table under Counts.
    expect(await page.locator('table.summary-table').evaluateAll((ts) => ts.map((t) => t.getAttribute('data-metric')))).toEqual(['accuracy']);
    const ra = summarize(records, 'accuracy').find((s) => s.strategy === 'run-average')!;
    expect(ra.models).toBe(2);
    expect(ra.std).toBeGreaterThan(0); // runGroups: seeds gives run averaging a spread
    const raRow = (await cells(page, 'table.summary-table')).find((r) => r[0]!.startsWith('run-average'))!;
    expect(raRow.slice(1)).toEqual(['2', ...FIXTURE_LANGUAGES.map((l) => ra.perLanguage[l]!.toFixed(2)), ra.mean.toFixed(2), ra.std.toFixed(2), ra.worst.toFixed(2), `${ra.gapToOracle! >= 0 ? '+' : ''}${ra.gapToOracle!.toFixed(2)}`]);

    // Over training: mean over targets, then one language; last is the checkpoints' own scores.
    await page.click('nav.tabs button[data-view="trajectory"]');
    await page.waitForSelector('#plot-trajectory .main-svg');
    expect(await page.locator('#view-overview').isHidden()).toBe(true);
    const scores = fixtureCheckpointScores();
    const lastAt = (language: string, k: number) => scores.reduce((s, r) => s + r.checkpoints[k]!.targetDev[language]!['accuracy']!, 0) / scores.length;
    await page.selectOption('#trajectory-language', 'ru');
    const table = await cells(page, '#trajectory-table');
    expect(table[0]).toEqual(['optimizer step', 'last', 'oracle-target-dev']);
    expect(table.slice(1).map((r) => r[1])).toEqual([0, 1, 2].map((k) => lastAt('ru', k).toFixed(2)));
    expect(table.slice(1).map((r) => r[0])).toEqual(['10', '20', '30']);
    const plotted = await traces(page, 'plot-trajectory');
    expect(plotted.map((t) => t.name)).toEqual(['last: checkpoint k itself', 'oracle: best of checkpoints 1..k on target dev', 'last (test, final)', 'checkpoint-average (test, final)', 'oracle-target-dev (test, final)']);
    expect(plotted[0]!.y).toEqual([0, 1, 2].map((k) => lastAt('ru', k)));
    const oracleRu = summarize(records, 'accuracy').find((s) => s.strategy === 'oracle-target-dev')!.perLanguage['ru']!;
    expect(plotted[4]!.y).toEqual([oracleRu]);

    // CA − last per run.
    await page.click('nav.tabs button[data-view="delta"]');
    await page.waitForSelector('#plot-delta .main-svg');
    const value = (strategy: string, run: string, language: string) => records.find((r) => r.strategy === strategy && r.run === run && r.language === language && r.metric === 'accuracy')!.value;
    await page.selectOption('#delta-language', 'zh');
    const delta = await cells(page, '#delta-table');
    const expected = FIXTURE_RUNS.map((run) => value('checkpoint-average', run, 'zh') - value('last', run, 'zh'));
    const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
    expect(delta.slice(1)).toEqual([...FIXTURE_RUNS.map((run, i) => [run, signed(expected[i]!)]), ['mean', signed(expected.reduce((a, b) => a + b, 0) / 4)]]);
    expect(await page.locator('#plot-delta .trace .point').count()).toBe(4);

    // By hyperparameter: learning rate (RA groups included), then seed (RA groups have none).
    await page.click('nav.tabs button[data-view="hyper"]');
    await page.waitForSelector('#plot-hyper .main-svg');
    expect(await page.locator('#hyper-axis option').allTextContents()).toEqual(['learningRate', 'seed']);
    expect((await cells(page, '#hyper-table')).map((r) => r[0])).toEqual(['strategy', 'last', 'checkpoint-average', 'run-average', 'oracle-target-dev']);
    await page.selectOption('#hyper-axis', 'seed');
    const bySeed = await cells(page, '#hyper-table');
    expect(bySeed[0]).toEqual(['strategy', 'seed=1', 'seed=2']);
    expect(bySeed.map((r) => r[0])).toEqual(['strategy', 'last', 'checkpoint-average', 'oracle-target-dev']);
    const lastSeed1 = ['lr=2e-05_seed=1', 'lr=5e-05_seed=1'].map((run) => FIXTURE_LANGUAGES.reduce((s, l) => s + value('last', run, l), 0) / 3);
    expect(bySeed[1]![1]).toBe(((lastSeed1[0]! + lastSeed1[1]!) / 2).toFixed(2));

    // Counts: a plain table, no worst case or gap to the oracle.
    await page.click('nav.tabs button[data-view="counts"]');
    const counts = await cells(page, 'table.counts-table[data-metric="unseen_labels"]');
    expect(counts[0]).toEqual(['strategy', 'models', ...FIXTURE_LANGUAGES, 'total']);
    expect(counts[1]).toEqual(['last', '4', '0', '3', '12', '15']);
    expect(await page.locator('#view-counts th').allTextContents()).not.toContain('worst case');

    await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
    if (process.env.XLT_REPORT_SCREENSHOT) await page.screenshot({ path: process.env.XLT_REPORT_SCREENSHOT, fullPage: true });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  }, 120_000);
});
