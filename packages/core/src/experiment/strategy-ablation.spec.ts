import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { prepareExperiment } from './experiment-context.js';
import { experimentModule } from './experiment-module.js';
import { runExperiment } from './runner.js';
import { writeToyExperiment } from './testing/toy-benchmark.js';
import { toyModule } from './testing/toy-module.js';
import { toyServices } from './testing/toy-services.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
const quiet = { print: () => {}, stderr: () => {} };
const RUNS = ['lr=0.5_bs=8_ep=2_sched=linear_wu=0_seed=1', 'lr=0.5_bs=8_ep=2_sched=linear_wu=0_seed=2', 'lr=0.1_bs=8_ep=2_sched=linear_wu=0_seed=1', 'lr=0.1_bs=8_ep=2_sched=linear_wu=0_seed=2'];
const CHECKPOINTS = [4, 8, 12, 16];
const LANGS = ['xx', 'yy', 'zz'];
type ToyModel = { labels: string[]; weights: number[][]; encoder: { scale: number[]; shift: number[] } };
const readModel = async (folder: string) => JSON.parse(await readFile(join(folder, 'model.json'), 'utf8')) as ToyModel;

describe('strategy entries with their own names (an ablation of one strategy)', () => {
  it('checkpoint-average plain and with lastK=1 give different rows, each the average of its own checkpoints', async () => {
    const { dir, cleanup } = await tempDir('xlt-ablation-');
    cleanups.push(cleanup);
    const config = await writeToyExperiment(dir, { strategies: ['checkpoint-average', { id: 'checkpoint-average', options: { lastK: 1 } }, 'last'] });
    const engine = await createEngine([toyModule, experimentModule]);
    const outcome = await runExperiment(config, { engine, services: toyServices(), ...quiet });
    const out = outcome.outDir;
    const all = 'checkpoint-average';
    const tail = 'checkpoint-average[lastK=1]';

    const rows = (strategy: string) => outcome.records.filter((r) => r.strategy === strategy && r.metric === 'accuracy');
    expect(rows(all)).toHaveLength(4 * 3);
    expect(rows(tail)).toHaveLength(4 * 3);
    expect(rows(tail).every((r) => r.strategyId === 'checkpoint-average' && JSON.stringify(r.strategyOptions) === '{"lastK":1}')).toBe(true);
    expect(rows(all).every((r) => r.strategyId === 'checkpoint-average' && JSON.stringify(r.strategyOptions) === '{}')).toBe(true);
    expect(rows(tail).map((r) => r.value)).not.toEqual(rows(all).map((r) => r.value));
    const summary = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')).summary.accuracy.map((s: { strategy: string }) => s.strategy);
    expect(summary).toEqual([all, tail, 'last']);
    const csv = (await readFile(join(out, 'results.csv'), 'utf8')).trim().split('\n');
    expect(csv.filter((l) => l.includes(`,${tail},`))).toHaveLength(4 * 3 * 2);
    expect(csv.filter((l) => l.includes(`,${tail},`)).every((l) => l.endsWith(',checkpoint-average,"{""lastK"":1}",shared-frozen'))).toBe(true);

    const ctx = await prepareExperiment(config, engine, toyServices(), { note: () => {} });
    const services = toyServices();
    for (const run of RUNS) {
      // Plain CA: its merged model is the mean of the run's 4 checkpoints, computed here by hand.
      const checkpoints = await Promise.all(CHECKPOINTS.map((s) => readModel(join(out, 'runs', run, `checkpoint-${s}`))));
      const mean = (of: (m: ToyModel) => number) => checkpoints.reduce((s, m) => s + of(m), 0) / checkpoints.length;
      const merged = await readModel(join(out, 'models', all, run, 'model'));
      merged.weights.forEach((row, k) => row.forEach((w, i) => expect(w).toBeCloseTo(mean((m) => m.weights[k]![i]!), 12)));
      merged.encoder.scale.forEach((x, i) => expect(x).toBeCloseTo(mean((m) => m.encoder.scale[i]!), 12));
      merged.encoder.shift.forEach((x, i) => expect(x).toBeCloseTo(mean((m) => m.encoder.shift[i]!), 12));

      // lastK=1: a plan of the last checkpoint alone, used in place; its own folders, not the plain CA's.
      const plan = JSON.parse(await readFile(join(out, 'models', tail, run, 'plan.json'), 'utf8'));
      expect(plan).toMatchObject({ strategy: tail, strategyId: 'checkpoint-average', options: { lastK: 1 } });
      expect(plan.plan).toEqual([{ run, step: 16, path: `../../../runs/${run}/checkpoint-16`, weight: 1 }]);
      expect(resolve(join(out, 'models', tail, run), plan.model)).toBe(join(out, 'runs', run, 'checkpoint-16'));
      expect(existsSync(join(out, 'models', tail, run, 'model'))).toBe(false);

      // Each row is the score of the right model: scored here by hand, and lastK=1 equals `last`.
      for (const language of LANGS) {
        const test = ctx.data.targets.find((t) => t.language === language)!.test;
        const score = async (model: string) => ctx.task.score(test, await services.predict({ task: ctx.task, taskOptions: {}, model, backend: 'auto', examples: test, labels: ctx.labels, maxLength: 128, batchSize: 64 }), { labels: ctx.labels, maxLength: 128, options: {} }).accuracy;
        const row = (strategy: string) => outcome.records.find((r) => r.strategy === strategy && r.run === run && r.language === language && r.metric === 'accuracy')!.value;
        expect(row(all)).toBe(await score(join(out, 'models', all, run, 'model')));
        expect(row(tail)).toBe(await score(join(out, 'runs', run, 'checkpoint-16')));
        expect(row(tail)).toBe(row('last'));
        const metrics = JSON.parse(await readFile(join(out, 'eval', tail, run, language, 'metrics.json'), 'utf8'));
        expect(metrics).toMatchObject({ strategy: tail, run, language, metrics: { accuracy: row(tail) } });
      }
    }

    // The same name with other options on a re-run would reuse the old models: refused, naming both.
    const changed = await writeToyExperiment(dir, { strategies: [{ id: 'checkpoint-average', name: tail, options: { lastK: 2 } }] });
    const error = await runExperiment(changed, { engine, services: toyServices(), ...quiet }).catch((e: unknown) => e);
    expect((error as Error).message).toContain(`was built by strategy "checkpoint-average" with options {"lastK":1}, but the entry named "${tail}" is now "checkpoint-average" with options {"lastK":2}`);
  });
});
