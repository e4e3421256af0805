import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ResultRecord, seededRandom } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { htmlReportSink } from './html-report-sink.js';
import { summarize } from './summary.js';

const CHROMIUM = '/usr/bin/chromium';

/** Results of a 2x2 grid, 5 strategies (one oracle), 3 languages, two metrics, with plausible noise. */
function records(): ResultRecord[] {
  const random = seededRandom(3);
  const out: ResultRecord[] = [];
  const runs = ['lr=2e-05_seed=1', 'lr=2e-05_seed=2', 'lr=5e-05_seed=1', 'lr=5e-05_seed=2'];
  const strategies: [string, number, boolean, boolean][] = [
    ['last', 60, false, false], ['best-source-dev', 61, false, false], ['checkpoint-average', 64, false, false],
    ['run-average', 65, false, true], ['oracle-target-dev', 67, true, false],
  ];
  for (const [strategy, base, oracle, across] of strategies) {
    for (const run of across ? ['all'] : runs) {
      for (const [language, shift] of [['de', 0], ['ru', -6], ['zh', -15]] as const) {
        const f1 = base + shift + (across ? 0 : 8 * (random() - 0.5));
        out.push({ experiment: 'report <test>', task: 'ner', run, strategy, language, metric: 'f1', value: f1, oracle });
        out.push({ experiment: 'report <test>', task: 'ner', run, strategy, language, metric: 'precision', value: f1 + 2, oracle });
      }
    }
  }
  return out;
}

describe('report.html', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('xlt-report-')));
  afterAll(() => cleanup());

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

  it('renders every plot as SVG in headless Chromium with no console error, oracle rows marked', async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: the report test needs Debian's chromium package (.ci/run installs Debian \`chromium\`; locally: apt-get install chromium).`);
    }
    const [file] = await htmlReportSink.write(records(), dir);
    const html = await readFile(file!, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/); // self-contained
    expect(html).toContain('report &lt;test&gt;');

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      const requests: string[] = [];
      page.on('request', (r) => !r.url().startsWith('file:') && !r.url().startsWith('data:') && requests.push(r.url()));
      await page.goto(pathToFileURL(file!).href);
      await page.waitForSelector('#plot-spread .main-svg');
      for (const id of ['plot-languages', 'plot-spread']) {
        const svgs = await page.locator(`#${id} .main-svg`).count();
        expect(svgs, id).toBeGreaterThan(0);
        const traces = await page.locator(`#${id} .main-svg .trace`).count();
        expect(traces, `${id} traces`).toBe(5);
      }
      // Bars: one per strategy and language; box plot points: one per model (4 runs x 4 per-run strategies + 1).
      expect(await page.locator('#plot-languages .trace .point').count()).toBe(15);
      expect(await page.locator('#plot-spread .trace .point').count()).toBe(17);
      expect(await page.locator('tr.oracle').count()).toBe(2); // one summary table per metric
      expect(await page.locator('tr.oracle .badge').first().textContent()).toBe('ORACLE');
      expect(await page.locator('#plot-languages .legendtext', { hasText: 'oracle-target-dev (oracle)' }).count()).toBe(1);
      await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
      if (process.env.XLT_REPORT_SCREENSHOT) await page.screenshot({ path: process.env.XLT_REPORT_SCREENSHOT, fullPage: true });
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      expect((await readFile(join(dir, 'report.png'))).length).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }
  });
});
