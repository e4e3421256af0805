import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeQuickstart } from '@xlt/core';
import { tempDir } from '@xlt/plugin-api/testing';
import { xlt, type Outcome } from '../run-xlt.js';
import { checkReportAgainstResults } from './check-report.js';

interface ResultsJson {
  readonly summary: Record<string, readonly { strategy: string; models: number; std: number }[]>;
}

/**
 * The report of a real (small) experiment, run by the CLI with the defaults: the quickstart's synthetic POS
 * benchmark, 2 learning rates x 2 seeds, every default strategy, checked view by view in Chromium.
 */
describe('report.html of the quickstart grid, checked against results.json in Chromium', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let run: Outcome;
  let out: string;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('xlt-report-e2e-'));
    const config = await writeQuickstart({ out: join(dir, 'q'), trainSentences: 120, evalSentences: 40 });
    out = join(dir, 'out');
    run = await xlt(['run', config, '--out', out], 900_000);
  }, 900_000);
  afterAll(() => cleanup());

  it('runs with runGroups defaulting to seeds: run averaging has one model per learning rate, and a spread', async () => {
    expect(run.code, run.stderr.slice(-3000)).toBe(0);
    const { summary } = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as ResultsJson;
    for (const strategy of ['run-average', 'checkpoint-run-average', 'greedy-soup']) {
      const s = summary['accuracy']!.find((x) => x.strategy === strategy)!;
      expect(s.models, strategy).toBe(2);
      expect(s.std, strategy).toBeGreaterThan(0);
    }
  });

  it('writes the chart library once beside the report, not into it', async () => {
    expect((await stat(join(out, 'report.html'))).size).toBeLessThan(500_000);
    expect(existsSync(join(out, 'report-assets', 'plotly.min.js'))).toBe(true);
  });

  it('shows in every view the numbers of results.json and the runs', async () => {
    const check = await checkReportAgainstResults(join(out, 'report.html'), join(out, 'results.json'));
    expect(check.mainMetric).toBe('accuracy');
    // 7 default strategies; the quickstart targets have dev data, so the oracle ran and checkpoints were scored on it.
    expect(check.summaryCells).toBeGreaterThan(0);
    expect(check.trajectoryCells).toBeGreaterThan(0);
    expect(check.deltaCells).toBe(4 * (4 + 1)); // mean over targets + 3 languages, each 4 runs and the mean
    expect(check.axes).toEqual(['learningRate', 'seed']);
    expect(check.hyperparameterCells).toBeGreaterThan(0);
    expect(check.countCells).toBeGreaterThan(0); // unseen_labels / truncated_words of the tagging task
  }, 300_000);

  it('fails on a report whose numbers differ from the results: one CA − last difference, one trajectory point', async () => {
    const html = await readFile(join(out, 'report.html'), 'utf8');
    /** The parts of the report's embedded view data this test changes. */
    type Views = { caMinusLast: { differences: Record<string, number[]> }; trajectory: { lines: Record<string, { values: number[] }[]> } };
    const tampered = async (name: string, change: (data: Views) => void) => {
      const file = join(out, name); // beside the real one, so report-assets/ resolves
      await writeFile(file, html.replace(/(<script id="xlt-data" type="application\/json">)(.*?)(<\/script>)/s, (_, open: string, json: string, close: string) => {
        const data = JSON.parse(json) as Views;
        change(data);
        return `${open}${JSON.stringify(data).replace(/</g, '\\u003c')}${close}`;
      }));
      return file;
    };
    const delta = await tampered('delta.html', (d) => (d.caMinusLast.differences['(mean)']![1]! += 0.5));
    await expect(checkReportAgainstResults(delta, join(out, 'results.json'))).rejects.toThrow(/CA − last/);
    const trajectory = await tampered('trajectory.html', (d) => (d.trajectory.lines['(mean)']![0]!.values[2]! -= 0.5));
    await expect(checkReportAgainstResults(trajectory, join(out, 'results.json'))).rejects.toThrow(/trajectory mean over targets last at checkpoint 3/);
  }, 300_000);
});
