import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultRecord } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { caMinusLastView } from './ca-minus-last-view.js';
import { readCheckpointScores, type RunCheckpointScores } from './checkpoint-scores.js';
import { countsView } from './counts-view.js';
import { hyperparameterView } from './hyperparameter-view.js';
import { isCountMetric, scoreMetrics } from './metric-kinds.js';
import { MEAN_OVER_TARGETS } from './record-stats.js';
import { STRATEGY_COLOURS, strategyColours } from './strategy-colours.js';
import { mainMetric } from './summary.js';
import { trajectoryView } from './trajectory-view.js';

const rec = (strategy: string, run: string, language: string, value: number, extra: Partial<ResultRecord> = {}): ResultRecord => ({
  experiment: 'e', task: 't', run, strategy, language, metric: 'acc', value, oracle: strategy.startsWith('oracle'), ...extra,
});

describe('report views', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('xlt-report-views-')));
  afterAll(() => cleanup());

  it('tells counts from scores, and never takes a count as the main metric', () => {
    expect(['unseen_labels', 'truncated_words', 'errors', 'num_spans', 'label_count'].every(isCountMetric)).toBe(true);
    expect(['accuracy', 'f1', 'f1_PER', 'exact_match', 'precision_LOC'].some(isCountMetric)).toBe(false);
    const rs = [rec('last', 'r', 'de', 3, { metric: 'unseen_labels' }), rec('last', 'r', 'de', 50)];
    expect(scoreMetrics(rs)).toEqual(['acc']);
    expect(mainMetric(rs)).toBe('acc');
  });

  it('gives each strategy a fixed colour, the oracle one no other strategy has, ablations their own', () => {
    const c = strategyColours([
      { name: 'last', oracle: false }, { name: 'checkpoint-average', oracle: false }, { name: 'oracle-target-dev', oracle: true },
      { name: 'checkpoint-average[lastK=1]', id: 'checkpoint-average', oracle: false }, { name: 'my-oracle', oracle: true }, { name: 'mystery', oracle: false },
    ]);
    expect(c['checkpoint-average']).toBe(STRATEGY_COLOURS['checkpoint-average']);
    expect(c['oracle-target-dev']).toBe(STRATEGY_COLOURS['oracle-target-dev']);
    expect(new Set(Object.values(c)).size).toBe(6);
    // The order of appearance does not change a built-in strategy's colour.
    expect(strategyColours([{ name: 'oracle-target-dev', oracle: true }, { name: 'checkpoint-average', oracle: false }])).toEqual({
      'oracle-target-dev': STRATEGY_COLOURS['oracle-target-dev'], 'checkpoint-average': STRATEGY_COLOURS['checkpoint-average'],
    });
  });

  it('trajectory: last is each checkpoint, the oracle the best so far per language, means over runs and languages', () => {
    const scores: RunCheckpointScores[] = [
      { run: 'r1', hyperparameters: {}, checkpoints: [{ step: 5, targetDev: { de: { acc: 10 }, ru: { acc: 30 } } }, { step: 10, targetDev: { de: { acc: 20 }, ru: { acc: 20 } } }] },
      { run: 'r2', hyperparameters: {}, checkpoints: [{ step: 5, targetDev: { de: { acc: 30 }, ru: { acc: 10 } } }, { step: 10, targetDev: { de: { acc: 10 }, ru: { acc: 40 } } }] },
    ];
    const records = [rec('last', 'r1', 'de', 21), rec('last', 'r1', 'ru', 19), rec('last', 'r2', 'de', 11), rec('last', 'r2', 'ru', 41), rec('checkpoint-average', 'r1', 'de', 25), rec('checkpoint-average', 'r1', 'ru', 25), rec('oracle-target-dev', 'r1', 'de', 30), rec('oracle-target-dev', 'r9', 'de', 99)];
    const t = trajectoryView(records, scores, 'acc')!;
    expect(t.x).toEqual([5, 10]);
    expect(t.xTitle).toBe('optimizer step');
    expect(t.languages).toEqual([MEAN_OVER_TARGETS, 'de', 'ru']);
    expect(t.prefixAverage).toBe(false);
    const values = (key: string) => Object.fromEntries(t.lines[key]!.map((l) => [l.strategy, l.values]));
    expect(values('de')).toEqual({ last: [20, 15], 'oracle-target-dev': [20, 25] }); // r1: 10,20 (best 10,20); r2: 30,10 (best 30,30)
    expect(values('ru')).toEqual({ last: [20, 30], 'oracle-target-dev': [20, 35] });
    expect(values(MEAN_OVER_TARGETS)).toEqual({ last: [20, 22.5], 'oracle-target-dev': [20, 30] });
    // Test scores at the end, over the trajectory's runs only (r9 is not one of them).
    expect(t.finals[MEAN_OVER_TARGETS]).toEqual([{ strategy: 'last', value: 23 }, { strategy: 'checkpoint-average', value: 25 }, { strategy: 'oracle-target-dev', value: 30 }]);
    expect(t.finals['ru']).toEqual([{ strategy: 'last', value: 30 }, { strategy: 'checkpoint-average', value: 25 }]);

    // Checkpoint averaging over the first k checkpoints, when the runner recorded it; checkpoint numbers when steps differ.
    const withCa = scores.map((r, i) => ({ ...r, checkpoints: r.checkpoints.map((c, k) => ({ ...c, step: c.step * (i + 1), prefixAverageTargetDev: { de: { acc: 100 + k }, ru: { acc: 200 } } })) }));
    const t2 = trajectoryView(records, withCa, 'acc')!;
    expect(t2.prefixAverage).toBe(true);
    expect(t2.xTitle).toBe('checkpoint');
    expect(t2.x).toEqual([1, 2]);
    expect(t2.lines['de']!.map((l) => l.strategy)).toEqual(['last', 'checkpoint-average', 'oracle-target-dev']);
    expect(t2.lines[MEAN_OVER_TARGETS]![1]!.values).toEqual([150, 150.5]);
    expect(trajectoryView(records, [], 'acc')).toBeUndefined();
    expect(trajectoryView(records, scores, 'f1')).toBeUndefined();
  });

  it('trajectory without target dev data: on source dev, best-source-dev the best so far, finals averaged over targets', () => {
    const scores: RunCheckpointScores[] = [
      { run: 'r1', hyperparameters: {}, checkpoints: [{ step: 5, targetDev: {}, sourceDev: { acc: 60 }, prefixAverageSourceDev: { acc: 60 } }, { step: 10, targetDev: {}, sourceDev: { acc: 50 }, prefixAverageSourceDev: { acc: 64 } }] },
      { run: 'r2', hyperparameters: {}, checkpoints: [{ step: 5, targetDev: {}, sourceDev: { acc: 40 }, prefixAverageSourceDev: { acc: 40 } }, { step: 10, targetDev: {}, sourceDev: { acc: 70 }, prefixAverageSourceDev: { acc: 58 } }] },
    ];
    const records = [rec('last', 'r1', 'de', 20), rec('last', 'r1', 'ru', 30), rec('last', 'r2', 'de', 40), rec('last', 'r2', 'ru', 50), rec('best-source-dev', 'r1', 'de', 10), rec('best-source-dev', 'r1', 'ru', 20)];
    const t = trajectoryView(records, scores, 'acc')!;
    expect(t.data).toBe('source dev');
    expect(t.languages).toEqual([MEAN_OVER_TARGETS]);
    expect(t.prefixAverage).toBe(true);
    expect(Object.fromEntries(t.lines[MEAN_OVER_TARGETS]!.map((l) => [l.strategy, l.values]))).toEqual({ last: [50, 60], 'checkpoint-average': [50, 61], 'best-source-dev': [50, 65] });
    expect(t.finals[MEAN_OVER_TARGETS]).toEqual([{ strategy: 'last', value: 35 }, { strategy: 'best-source-dev', value: 15 }]);
    // Target dev wins when the runs have it.
    expect(trajectoryView(records, scores.map((r) => ({ ...r, checkpoints: r.checkpoints.map((c) => ({ ...c, targetDev: { de: { acc: 1 } } })) })), 'acc')!.data).toBe('target dev');
  });

  it('reads per-checkpoint dev scores from runs/*/done.json, leaving out unfinished and unscored runs', async () => {
    const write = async (run: string, body: string) => {
      await mkdir(join(dir, 'runs', run), { recursive: true });
      if (body) await writeFile(join(dir, 'runs', run, 'done.json'), body);
    };
    await write('b', JSON.stringify({ run: 'b', hyperparameters: { seed: 2 }, checkpoints: [{ path: 'x', run: 'b', step: 20, targetDev: { de: { acc: 2 } } }, { path: 'y', run: 'b', step: 10, targetDev: { de: { acc: 1 } } }] }));
    await write('a', JSON.stringify({ run: 'a', hyperparameters: {}, checkpoints: [{ path: 'x', run: 'a', step: 10, sourceDev: { acc: 1 }, prefixAverageSourceDev: { acc: 1 } }] })); // no oracle: source dev
    await write('e', JSON.stringify({ run: 'e', hyperparameters: {}, checkpoints: [{ path: 'x', run: 'e', step: 10 }] })); // no dev data: unscored
    await write('c', ''); // training
    await write('d', '{"run":'); // damaged
    expect(await readCheckpointScores(dir)).toEqual([
      { run: 'a', hyperparameters: {}, checkpoints: [{ step: 10, targetDev: {}, sourceDev: { acc: 1 }, prefixAverageSourceDev: { acc: 1 } }] },
      { run: 'b', hyperparameters: { seed: 2 }, checkpoints: [{ step: 10, targetDev: { de: { acc: 1 } } }, { step: 20, targetDev: { de: { acc: 2 } } }] },
    ]);
    expect(await readCheckpointScores(join(dir, 'nothing-here'))).toEqual([]);
  });

  it('CA − last: paired per run and language, with mean and wins', () => {
    const records = [
      rec('last', 'r1', 'de', 50), rec('last', 'r1', 'ru', 70), rec('checkpoint-average', 'r1', 'de', 54), rec('checkpoint-average', 'r1', 'ru', 68),
      rec('last', 'r2', 'de', 40), rec('last', 'r2', 'ru', 60), rec('checkpoint-average', 'r2', 'de', 41), rec('checkpoint-average', 'r2', 'ru', 65),
      rec('checkpoint-average[lastK=1]', 'r1', 'de', 0, { strategyId: 'checkpoint-average' }),
    ];
    const v = caMinusLastView(records, 'acc')!;
    expect(v).toMatchObject({ ca: 'checkpoint-average', last: 'last', runs: ['r1', 'r2'], languages: [MEAN_OVER_TARGETS, 'de', 'ru'] });
    expect(v.differences).toEqual({ [MEAN_OVER_TARGETS]: [1, 3], de: [4, 1], ru: [-2, 5] });
    expect(v.mean).toEqual({ [MEAN_OVER_TARGETS]: 2, de: 2.5, ru: 1.5 });
    expect(v.wins).toEqual({ [MEAN_OVER_TARGETS]: 2, de: 2, ru: 1 });
    expect(caMinusLastView(records.filter((r) => r.strategy === 'last'), 'acc')).toBeUndefined();
  });

  it('by hyperparameter: every axis with two or more values, the per-model scores and means per value', () => {
    const hp = (lr: number, seed?: number) => ({ hyperparameters: seed === undefined ? { lr, bs: 8 } : { lr, bs: 8, seed } });
    const records = [
      rec('last', 'a', 'de', 10, hp(1e-5, 1)), rec('last', 'a', 'ru', 20, hp(1e-5, 1)), rec('last', 'b', 'de', 30, hp(1e-5, 2)), rec('last', 'b', 'ru', 30, hp(1e-5, 2)),
      rec('last', 'c', 'de', 40, hp(1e-4, 1)), rec('last', 'c', 'ru', 40, hp(1e-4, 1)),
      rec('run-average', 'g1', 'de', 12, hp(1e-5)), rec('run-average', 'g1', 'ru', 14, hp(1e-5)),
    ];
    const v = hyperparameterView(records, 'acc');
    expect(v.axes.map((a) => a.name)).toEqual(['lr', 'seed']); // bs has one value
    const [lr, seed] = v.axes;
    expect(lr!.values).toEqual(['1e-05', '1e-04']); // as in run keys, in numeric order
    expect(lr!.strategies).toEqual([
      { strategy: 'last', points: [{ value: '1e-05', run: 'a', score: 15 }, { value: '1e-05', run: 'b', score: 30 }, { value: '1e-04', run: 'c', score: 40 }], means: [22.5, 40] },
      { strategy: 'run-average', points: [{ value: '1e-05', run: 'g1', score: 13 }], means: [13, null] },
    ]);
    expect(seed!.strategies.map((s) => s.strategy)).toEqual(['last']); // groups have no seed
    expect(seed!.strategies[0]!.means).toEqual([27.5, 30]);
  });

  it('counts: mean over models per language and the total, per strategy', () => {
    const u = { metric: 'unseen_labels' };
    const v = countsView([rec('last', 'r1', 'de', 50), rec('last', 'r1', 'de', 2, u), rec('last', 'r1', 'ru', 4, u), rec('last', 'r2', 'de', 4, u), rec('last', 'r2', 'ru', 4, u), rec('oracle-x', 'r1', 'de', 1, u)]);
    expect(v.languages).toEqual(['de', 'ru']);
    expect(v.metrics).toEqual([{ metric: 'unseen_labels', rows: [{ strategy: 'last', oracle: false, models: 2, perLanguage: [3, 4], total: 7 }, { strategy: 'oracle-x', oracle: true, models: 1, perLanguage: [1, null], total: 1 }] }]);
  });
});
