import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, InputError } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { prepareExperiment } from './experiment-context.js';
import { sampleShots } from './experiment-data.js';
import { experimentModule } from './experiment-module.js';
import { runExperiment } from './runner.js';
import type { RunTrainingJob } from './services.js';
import { writeToyExperiment } from './testing/toy-benchmark.js';
import { toyModule } from './testing/toy-module.js';
import { toyServices, type ToyCalls } from './testing/toy-services.js';
import { toyTask, type ToyExample } from './testing/toy-task.js';
import { ensureRun, type RunDoneMarker } from './train-step.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
async function workDir() {
  const t = await tempDir('xlt-few-shot-');
  cleanups.push(t.cleanup);
  return t.dir;
}
const quiet = { print: () => {}, stderr: () => {} };
const LANGS = ['xx', 'yy', 'zz'];
const ZS = (seed: number) => `lr=0.5_bs=8_ep=2_sched=linear_wu=0_seed=${seed}`;
const key = (e: ToyExample) => `${e.label}\t${e.features.join(' ')}`;
const readJson = async <T>(file: string) => JSON.parse(await readFile(file, 'utf8')) as T;
const readPool = (dir: string, lang: string) => toyTask.read({ path: join(dir, 'data', `${lang}-train.tsv`) }, {}) as Promise<ToyExample[]>;

async function fewShot(dir: string, setup: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return writeToyExperiment(dir, { setup: { mode: 'few-shot', ...setup }, grid: { learningRate: [0.5], batchSize: [8], epochs: [2], warmup: [0], seeds: [1, 2] }, ...extra });
}

/** Runs a few-shot toy experiment; the training jobs in the order they ran, and the prepared experiment. */
async function runFewShot(setup: Record<string, unknown>) {
  const dir = await workDir();
  const config = await fewShot(dir, setup);
  const engine = await createEngine([toyModule, experimentModule]);
  const jobs: RunTrainingJob[] = [];
  const outcome = await runExperiment(config, { engine, services: toyServices({ onTrain: (j) => jobs.push(j) }), ...quiet });
  const ctx = await prepareExperiment(config, engine, toyServices(), { note: () => {} });
  return { dir, jobs, outcome, out: outcome.outDir, ctx };
}

describe('few-shot shots', () => {
  it('samples k shots per target from its train file, the same for the same seed and different for another', async () => {
    const dir = await workDir();
    const engine = await createEngine([toyModule, experimentModule]);
    const shotsOf = async (seed: number, out: string) => {
      const config = await fewShot(dir, { shots: 5, seed, variant: 'multi' });
      const ctx = await prepareExperiment(config, engine, toyServices(), { out: join(dir, out), note: () => {} });
      return Object.fromEntries(ctx.data.targets.map((t) => [t.language, (t.shots as ToyExample[]).map(key)]));
    };
    const first = await shotsOf(1, 'a');
    const again = await shotsOf(1, 'b');
    const other = await shotsOf(2, 'c');
    expect(Object.keys(first)).toEqual(LANGS);
    for (const lang of LANGS) {
      const pool = new Set((await readPool(dir, lang)).map(key));
      expect(first[lang]).toHaveLength(5);
      expect(new Set(first[lang]).size).toBe(5);
      for (const shot of first[lang]!) expect(pool.has(shot), `${lang} shot ${shot} is from ${lang}-train.tsv`).toBe(true);
      expect(again[lang]).toEqual(first[lang]);
      expect(new Set(other[lang])).not.toEqual(new Set(first[lang]));
    }
    // The language enters the seed: equal-sized pools do not get the same example indices.
    const indices = (pool: number[], lang: string) => sampleShots(pool, 5, 1, lang);
    const pool = Array.from({ length: 30 }, (_, i) => i);
    expect(indices(pool, 'xx')).toEqual(indices(pool, 'xx'));
    expect(indices(pool, 'xx')).not.toEqual(indices(pool, 'yy'));
  });

  it('fails before training when a target has no train file or fewer examples than shots', async () => {
    const dir = await workDir();
    const engine = await createEngine([toyModule, experimentModule]);
    const calls: ToyCalls = { trainedSteps: 0, merges: 0, predictions: 0 };
    const config = await fewShot(dir, { shots: 31 }, { targets: { xx: { test: 'data/xx-test.tsv', train: 'data/xx-train.tsv' }, yy: { test: 'data/yy-test.tsv' } } });
    const error = await runExperiment(config, { engine, services: toyServices({ calls }), ...quiet }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    const message = (error as Error).message;
    expect(message).toContain(`${join(dir, 'data', 'xx-train.tsv')} at targets.xx.train: expected at least 31 examples (setup.shots), found 30`);
    expect(message).toMatch(/at targets\.yy\.train: expected a train file to draw few-shot examples from/);
    expect(calls.trainedSteps).toBe(0);
  });
});

describe('few-shot runs on the toy experiment', () => {
  it('multi, start zero-shot: one model per grid point on source + the shots of every target, continuing the zero-shot run', async () => {
    const { dir, jobs, outcome, out, ctx } = await runFewShot({ shots: 5, seed: 3, variant: 'multi', start: 'zero-shot' });
    const source = (ctx.data.train as ToyExample[]).map(key);
    const allShots = ctx.data.targets.flatMap((t) => (t.shots as ToyExample[]).map(key));
    expect(allShots).toHaveLength(15);

    const FS = (seed: number) => `${ZS(seed)}_shots=5_multi`;
    // The zero-shot runs are trained first (from the pretrained model), then each few-shot run continues one.
    expect(jobs.map((j) => j.runId)).toEqual([ZS(1), ZS(2), FS(1), FS(2)]);
    expect((await readdir(join(out, 'runs'))).sort()).toEqual([ZS(1), FS(1), ZS(2), FS(2)].sort());
    for (const seed of [1, 2]) {
      const zs = jobs.find((j) => j.runId === ZS(seed))!;
      const fs = jobs.find((j) => j.runId === FS(seed))!;
      expect(zs.model).toBe(join(dir, 'init'));
      expect((zs.train as ToyExample[]).map(key)).toEqual(source);
      expect(fs.model).toBe(join(out, 'runs', ZS(seed), 'checkpoint-16'));
      expect((fs.train as ToyExample[]).map(key)).toEqual([...source, ...allShots]);
      expect(fs.hyperparameters.seed).toBe(seed);

      const zsDone = await readJson<RunDoneMarker>(join(out, 'runs', ZS(seed), 'done.json'));
      const fsDone = await readJson<RunDoneMarker>(join(out, 'runs', FS(seed), 'done.json'));
      expect(zsDone.init).toEqual({ from: 'pretrained', model: join(dir, 'init') });
      expect(fsDone.init).toEqual({ from: 'zero-shot', run: ZS(seed), checkpoint: join('runs', ZS(seed), 'checkpoint-16') });
      // 75 examples / batch 8 = 10 steps per epoch, 2 epochs, 2 checkpoints per epoch.
      expect(fsDone.checkpoints.map((c) => c.step)).toEqual([5, 10, 15, 20]);
      expect(fsDone.checkpoints.every((c) => c.sourceDev !== undefined && Object.keys(c.targetDev ?? {}).sort().join() === LANGS.join())).toBe(true);
      // The zero-shot runs are only a starting point: not scored, averaged or evaluated.
      expect(zsDone.checkpoints.every((c) => c.sourceDev === undefined && c.targetDev === undefined)).toBe(true);
    }
    // One model per grid point (per-run strategies) or per group (across-run), each evaluated on every target.
    for (const strategy of ['last', 'best-source-dev', 'checkpoint-average', 'oracle-target-dev']) {
      expect((await readdir(join(out, 'eval', strategy))).sort(), strategy).toEqual([FS(1), FS(2)]);
      for (const run of [FS(1), FS(2)]) expect((await readdir(join(out, 'eval', strategy, run))).sort()).toEqual(LANGS);
    }
    for (const strategy of ['run-average', 'checkpoint-run-average']) {
      expect(await readdir(join(out, 'eval', strategy))).toEqual(['lr=0.5_bs=8_ep=2_sched=linear_wu=0_shots=5_multi']);
      expect((await readdir(join(out, 'eval', strategy, 'lr=0.5_bs=8_ep=2_sched=linear_wu=0_shots=5_multi'))).sort()).toEqual(LANGS);
    }
    expect(existsSync(join(out, 'models', 'last', ZS(1)))).toBe(false);
    expect(outcome.records.some((r) => !r.run.includes('_shots=5_multi'))).toBe(false);
    const perRun = outcome.records.find((r) => r.strategy === 'last' && r.run === FS(1))!;
    expect(perRun.hyperparameters).toMatchObject({ shots: 5, variant: 'multi', start: 'zero-shot', seed: 1 });
    const csv = (await readFile(join(out, 'results.csv'), 'utf8')).split('\n')[0]!;
    expect(csv.split(',')).toEqual(expect.arrayContaining(['shots', 'variant', 'start']));
  });

  it('bi, start pretrained: one model per target on source + its own shots, evaluated on that target only', async () => {
    const { dir, jobs, outcome, out, ctx } = await runFewShot({ shots: 4, seed: 1, variant: 'bi', start: 'pretrained' });
    const source = (ctx.data.train as ToyExample[]).map(key);
    const shotsOf = (lang: string) => (ctx.data.targets.find((t) => t.language === lang)!.shots as ToyExample[]).map(key);
    const BI = (seed: number, lang: string) => `${ZS(seed)}_shots=4_bi=${lang}`;

    // No zero-shot runs: every run starts from the pretrained model.
    expect(jobs.map((j) => j.runId)).toEqual([1, 2].flatMap((seed) => LANGS.map((l) => BI(seed, l))));
    expect((await readdir(join(out, 'runs'))).sort()).toEqual(jobs.map((j) => j.runId).sort());
    for (const job of jobs) {
      const lang = job.runId.slice(-2);
      expect(job.model).toBe(join(dir, 'init'));
      expect((job.train as ToyExample[]).map(key)).toEqual([...source, ...shotsOf(lang)]);
      const done = await readJson<RunDoneMarker>(join(out, 'runs', job.runId, 'done.json'));
      expect(done.init).toEqual({ from: 'pretrained', model: join(dir, 'init') });
      // Oracle selection of a bi model looks at its own target's dev data only.
      expect(done.checkpoints.every((c) => Object.keys(c.targetDev ?? {}).join() === lang)).toBe(true);
      for (const strategy of ['last', 'checkpoint-average', 'oracle-target-dev']) {
        expect(await readdir(join(out, 'eval', strategy, job.runId)), `${strategy} ${job.runId}`).toEqual([lang]);
      }
    }
    for (const strategy of ['run-average', 'checkpoint-run-average']) {
      expect((await readdir(join(out, 'eval', strategy))).sort()).toEqual(LANGS.map((l) => `lr=0.5_bs=8_ep=2_sched=linear_wu=0_shots=4_bi=${l}`));
      for (const l of LANGS) expect(await readdir(join(out, 'eval', strategy, `lr=0.5_bs=8_ep=2_sched=linear_wu=0_shots=4_bi=${l}`))).toEqual([l]);
    }
    // Every result is of a model on the target whose shots it saw.
    expect(outcome.records.length).toBeGreaterThan(0);
    for (const r of outcome.records) {
      expect(r.run.endsWith(`_bi=${r.language}`), `${r.strategy} ${r.run} ${r.language}`).toBe(true);
      expect(r.hyperparameters).toMatchObject({ shots: 4, variant: 'bi', start: 'pretrained', shotLanguage: r.language });
    }
  });

  it('bi, start zero-shot: the bi runs of a grid point all continue that point\'s zero-shot run', async () => {
    const { jobs, outcome } = await runFewShot({ shots: 4, seed: 1, variant: 'bi', start: 'zero-shot' });
    expect(jobs).toHaveLength(2 + 6);
    for (const seed of [1, 2]) {
      for (const lang of LANGS) {
        const run = `${ZS(seed)}_shots=4_bi=${lang}`;
        expect(jobs.find((j) => j.runId === run)!.model).toBe(join(outcome.outDir, 'runs', ZS(seed), 'checkpoint-16'));
        const done = await readJson<RunDoneMarker>(join(outcome.outDir, 'runs', run, 'done.json'));
        expect(done.init).toEqual({ from: 'zero-shot', run: ZS(seed), checkpoint: join('runs', ZS(seed), 'checkpoint-16') });
      }
    }
    expect(new Set(outcome.records.map((r) => r.run)).has(ZS(1))).toBe(false);
  });

  it('trains the zero-shot run first when one few-shot run is trained alone (xlt train --run)', async () => {
    const dir = await workDir();
    const config = await fewShot(dir, { shots: 5, seed: 1, variant: 'multi', start: 'zero-shot' });
    const engine = await createEngine([toyModule, experimentModule]);
    const jobs: RunTrainingJob[] = [];
    const ctx = await prepareExperiment(config, engine, toyServices({ onTrain: (j) => jobs.push(j) }), { note: () => {} });
    const fs = ctx.runs.find((r) => r.key === `${ZS(2)}_shots=5_multi`)!;
    const checkpoints = await ensureRun(ctx, fs);
    expect(jobs.map((j) => j.runId)).toEqual([ZS(2), fs.key]);
    expect(checkpoints.at(-1)!.path).toBe(join(ctx.layout.root, 'runs', fs.key, 'checkpoint-20'));
    expect(existsSync(ctx.layout.runDone(ZS(2)))).toBe(true);
    expect(existsSync(ctx.layout.runDir(ZS(1)))).toBe(false);
    // Again: both are done, nothing is trained.
    await ensureRun(ctx, fs);
    expect(jobs).toHaveLength(2);
  });
});

describe('model loading during evaluation', () => {
  it('loads each strategy model once for all its target languages, with the same results as loading it each time', async () => {
    const dir = await workDir();
    const config = await writeToyExperiment(dir, { strategies: ['last', 'checkpoint-average'] });
    const engine = await createEngine([toyModule, experimentModule]);
    const loads = { count: 0 };
    const calls: ToyCalls = { trainedSteps: 0, merges: 0, predictions: 0 };
    const cached = await runExperiment(config, { engine, services: toyServices({ calls, modelLoads: loads }), out: join(dir, 'cached'), ...quiet });
    // 4 runs x 4 checkpoints scored on source dev, then 2 strategies x 4 runs evaluated on 3 languages.
    expect(calls.predictions).toBe(16 + 8 * 3);
    expect(loads.count).toBe(16 + 8);

    const { retain: _retain, ...uncachedServices } = toyServices({ modelLoads: (loads.count = 0, loads) });
    const uncached = await runExperiment(config, { engine, services: uncachedServices, out: join(dir, 'uncached'), ...quiet });
    expect(loads.count).toBe(16 + 8 * 3);
    expect(uncached.records).toEqual(cached.records);
  });
});
