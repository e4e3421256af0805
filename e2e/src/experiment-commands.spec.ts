import { existsSync } from 'node:fs';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  coreModule,
  engineServices,
  prepareExperiment,
  runExperiment,
  writeQuickstart,
  type ExperimentServices,
  type RunDoneMarker,
  type RunTrainingJob,
} from '@xlt/core';
import { createEngine } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { averagingModule } from '@xlt/averaging';
import { taggingModule } from '@xlt/tasks-tagging';
import { repoRoot } from './pack.js';
import { xlt } from './run-xlt.js';


/** Every file under a folder with its modification time, to see that a re-run rewrote nothing. */
async function mtimes(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out[join(entry.parentPath, entry.name)] = (await stat(join(entry.parentPath, entry.name))).mtimeMs;
  }
  return out;
}

const TARGETS = ['syn-near', 'syn-mid', 'syn-far'];
const GRID = { learningRate: [3e-3, 1e-3], batchSize: [16], epochs: [1], schedule: ['linear'], warmup: [0.1], seeds: [1] };
const KEYS = ['lr=0.003_bs=16_ep=1_sched=linear_wu=0.1_seed=1', 'lr=0.001_bs=16_ep=1_sched=linear_wu=0.1_seed=1'];

describe('xlt train and xlt evaluate (built CLI, synthetic POS, tiny random BERT)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let config: string;
  let out: string;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('xlt-commands-e2e-'));
    config = await writeQuickstart({ out: join(dir, 'bench'), trainSentences: 48, evalSentences: 24, overrides: { grid: GRID, strategies: ['last'], output: 'results' } });
    out = join(dir, 'bench', 'results');
  });
  afterAll(() => cleanup());

  it('--list prints the run keys of the grid, in order, and trains nothing', async () => {
    const listed = await xlt(['train', config, '--list']);
    expect(listed.code, listed.stderr.slice(-2000)).toBe(0);
    expect(listed.stdout.trim().split('\n')).toEqual(KEYS);
    expect(existsSync(join(out, 'runs'))).toBe(false);
  });

  it('names the runs that exist when --run is unknown', async () => {
    const bad = await xlt(['train', config, '--run', 'lr=9_seed=9']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('No run "lr=9_seed=9"');
    for (const key of KEYS) expect(bad.stderr).toContain(key);
  });

  it('--backend overrides the config: an unknown id lists the known ones, a known one is printed as the choice', async () => {
    const bad = await xlt(['train', config, '--list', '--backend', 'abacus']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Unknown backend "abacus"\. Known backend ids: .*tfjs-cpu/);
    const good = await xlt(['run', config, '--help']);
    expect(good.stdout).toContain('--backend <id>');
  });

  it('--run trains that one run and writes its checkpoints; running it again trains nothing', async () => {
    const first = await xlt(['train', config, '--run', KEYS[1]!]);
    expect(first.code, first.stderr.slice(-3000)).toBe(0);
    const report = JSON.parse(first.stdout) as { run: string; dir: string; checkpoints: { step: number; path: string; sourceDev?: Record<string, number> }[] };
    const runDir = join(out, 'runs', KEYS[1]!);
    expect(report.run).toBe(KEYS[1]);
    expect(report.dir).toBe(runDir);
    // 48 sentences / batch 16 = 3 optimizer steps; the final step is always a checkpoint.
    expect(report.checkpoints.length).toBeGreaterThan(0);
    expect(report.checkpoints.at(-1)!.step).toBe(3);
    for (const c of report.checkpoints) {
      expect(c.path).toBe(join(runDir, `checkpoint-${c.step}`));
      for (const f of ['config.json', 'model.safetensors', 'vocab.txt']) expect(existsSync(join(c.path, f)), `${c.path}/${f}`).toBe(true);
      expect(c.sourceDev?.['accuracy']).toBeGreaterThanOrEqual(0);
    }
    expect((await readdir(runDir)).filter((d) => d.startsWith('checkpoint-')).sort()).toEqual(report.checkpoints.map((c) => `checkpoint-${c.step}`).sort());
    expect(existsSync(join(runDir, 'done.json'))).toBe(true);
    expect(await readdir(join(out, 'runs'))).toEqual([KEYS[1]]);

    const before = await mtimes(runDir);
    const second = await xlt(['train', config, '--run', KEYS[1]!]);
    expect(second.code, second.stderr.slice(-3000)).toBe(0);
    expect(JSON.parse(second.stdout)).toEqual(report);
    expect(await mtimes(runDir)).toEqual(before);
    expect(await readdir(join(out, 'runs'))).toEqual([KEYS[1]]);

    // Interrupted after its last checkpoint but before done.json: the trainer resumes at the final step and
    // trains nothing; the checkpoints stay as they are and done.json is written again.
    await rm(join(runDir, 'done.json'));
    const resumed = await xlt(['train', config, '--run', KEYS[1]!]);
    expect(resumed.code, resumed.stderr.slice(-3000)).toBe(0);
    expect(JSON.parse(resumed.stdout)).toEqual(report);
    const after = await mtimes(runDir);
    for (const [file, mtime] of Object.entries(before)) if (!file.endsWith('done.json')) expect(after[file], file).toBe(mtime);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
  });

  it('evaluate writes predictions that xlt score reads, and metrics.json with the same metrics', async () => {
    const checkpoints = (await readdir(join(out, 'runs', KEYS[1]!))).filter((d) => d.startsWith('checkpoint-'));
    expect(checkpoints.length).toBeGreaterThan(0);
    const model = join(out, 'runs', KEYS[1]!, checkpoints.sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1])).at(-1)!);
    const data = join(dir, 'bench', 'data', 'syn-mid-test.conllu');
    const evalDir = join(dir, 'eval-syn-mid');
    const evaluated = await xlt(['evaluate', '--task', 'pos', '--model', model, '--data', data, '--lang', 'syn-mid', '--out', evalDir, '--max-length', '48']);
    expect(evaluated.code, evaluated.stderr.slice(-3000)).toBe(0);
    const written = JSON.parse(await readFile(join(evalDir, 'metrics.json'), 'utf8')) as { model: string; data: string; language: string; examples: number; metrics: Record<string, number> };
    expect(written).toMatchObject({ model, data, language: 'syn-mid', examples: 24 });
    expect(JSON.parse(evaluated.stdout)).toEqual(written.metrics);
    expect(written.metrics['accuracy']).toBeGreaterThanOrEqual(0);
    expect(written.metrics['accuracy']).toBeLessThanOrEqual(100);

    // One tag per word, a blank line after each sentence: as many tags as the gold file has words.
    const predictions = await readFile(join(evalDir, 'predictions.txt'), 'utf8');
    const goldWords = (await readFile(data, 'utf8')).split('\n').filter((l) => /^\d+\t/.test(l)).length;
    expect(predictions.split('\n').filter((l) => l.trim() !== '')).toHaveLength(goldWords);

    const scored = await xlt(['score', '--task', 'pos', '--gold', data, '--pred', join(evalDir, 'predictions.txt'), '--lang', 'syn-mid', '--train', join(dir, 'bench', 'data', 'syn-src-train.conllu')]);
    expect(scored.code, scored.stderr.slice(-2000)).toBe(0);
    // Every metric xlt score computes from the file agrees; metrics.json adds only what the file cannot carry
    // (words cut off by --max-length, known at prediction time: none at this length).
    expect({ ...JSON.parse(scored.stdout), truncated_words: 0 }).toEqual(written.metrics);
  });
});

describe('few-shot on the synthetic POS benchmark (real pos task, tiny random BERT, bi, start zero-shot)', () => {
  it('samples the shots from each target train file by seed, trains one model per target that continues the zero-shot run, evaluates it on its target', async () => {
    const { dir, cleanup } = await tempDir('xlt-few-shot-e2e-');
    try {
      const engine = await createEngine([coreModule, taggingModule, averagingModule]);
      const real = engineServices(engine, { log: () => {} });
      const jobs: RunTrainingJob[] = [];
      const services: ExperimentServices = { ...real, train: (job) => (jobs.push(job), real.train(job)) };
      const setup = { mode: 'few-shot', shots: 6, seed: 1, variant: 'bi', start: 'zero-shot' };
      const write = (s: Record<string, unknown>) =>
        writeQuickstart({ out: join(dir, 'bench'), trainSentences: 48, evalSentences: 24, overrides: { grid: { ...GRID, learningRate: [3e-3] }, setup: s, strategies: ['last', 'checkpoint-average'], output: 'results' } });

      // Shots: k sentences of the target's own train file, the same for a seed, others for another seed.
      const shotsFor = async (seed: number) => {
        const ctx = await prepareExperiment(await write({ ...setup, seed }), engine, real, { out: join(dir, `plan-${seed}`), note: () => {} });
        return Object.fromEntries(ctx.data.targets.map((t) => [t.language, t.shots!.map((s) => JSON.stringify(s))]));
      };
      const seed1 = await shotsFor(1);
      const seed2 = await shotsFor(2);
      const pos = engine.tasks.get('pos');
      for (const lang of TARGETS) {
        const pool = new Set((await pos.read({ path: join(dir, 'bench', 'data', `${lang}-train.conllu`), language: lang }, {})).map((s) => JSON.stringify(s)));
        expect(seed1[lang]).toHaveLength(6);
        expect(new Set(seed1[lang]).size).toBe(6);
        for (const shot of seed1[lang]!) expect(pool.has(shot), `${lang}: a shot not from ${lang}-train.conllu`).toBe(true);
        expect(new Set(seed2[lang])).not.toEqual(new Set(seed1[lang]));
      }

      const config = await write(setup);
      const outcome = await runExperiment(config, { engine, services, print: () => {}, stderr: () => {} });
      expect(await shotsFor(1)).toEqual(seed1);
      const out = outcome.outDir;
      const zs = 'lr=0.003_bs=16_ep=1_sched=linear_wu=0.1_seed=1';
      const bi = (lang: string) => `${zs}_shots=6_bi=${lang}`;
      expect(jobs.map((j) => j.runId)).toEqual([zs, ...TARGETS.map(bi)]);
      const zsDone = JSON.parse(await readFile(join(out, 'runs', zs, 'done.json'), 'utf8')) as RunDoneMarker;
      const zsFinal = join(out, zsDone.checkpoints.at(-1)!.path);
      expect(zsDone.init).toEqual({ from: 'pretrained', model: join(dir, 'bench', 'tiny-random-bert') });

      for (const lang of TARGETS) {
        const job = jobs.find((j) => j.runId === bi(lang))!;
        expect(job.train).toHaveLength(48 + 6);
        expect(job.train.slice(48).map((s) => JSON.stringify(s))).toEqual(seed1[lang]);
        expect(job.model).toBe(zsFinal);
        const done = JSON.parse(await readFile(join(out, 'runs', bi(lang), 'done.json'), 'utf8')) as RunDoneMarker;
        expect(done.init).toEqual({ from: 'zero-shot', run: zs, checkpoint: zsDone.checkpoints.at(-1)!.path });
        expect(done.hyperparameters).toMatchObject({ shots: 6, variant: 'bi', start: 'zero-shot', shotLanguage: lang });
        for (const strategy of ['last', 'checkpoint-average']) expect(await readdir(join(out, 'eval', strategy, bi(lang)))).toEqual([lang]);
      }
      expect(existsSync(join(out, 'eval', 'last', zs))).toBe(false);
      const accuracy = outcome.records.filter((r) => r.metric === 'accuracy');
      expect(accuracy).toHaveLength(2 * 3);
      for (const r of accuracy) {
        expect(r.run).toBe(bi(r.language));
        expect(r.value).toBeGreaterThanOrEqual(0);
        expect(r.value).toBeLessThanOrEqual(100);
      }

      // Evaluation keeps each model loaded across its languages; a fresh load scores the same.
      const planDir = join(out, 'models', 'checkpoint-average', bi('syn-far'));
      const ca = join(planDir, (JSON.parse(await readFile(join(planDir, 'plan.json'), 'utf8')) as { model: string }).model);
      const ctx = await prepareExperiment(config, engine, real, { note: () => {} });
      const target = ctx.data.targets.find((t) => t.language === 'syn-far')!;
      const predictions = await engineServices(engine, { log: () => {} }).predict({ task: ctx.task, taskOptions: ctx.taskOptions, model: ca, backend: 'auto', examples: target.test, labels: ctx.labels, language: 'syn-far', maxLength: 48, batchSize: 64 });
      const stored = JSON.parse(await readFile(join(out, 'eval', 'checkpoint-average', bi('syn-far'), 'syn-far', 'metrics.json'), 'utf8')) as { metrics: Record<string, number> };
      expect(ctx.task.score(target.test, predictions, { labels: ctx.labels, maxLength: 48, options: ctx.taskOptions, language: 'syn-far' })).toEqual(stored.metrics);
    } finally {
      await cleanup();
    }
  });

  it('multi, start pretrained: one model per grid point on the source and every target\'s shots, from the pretrained model, evaluated on every target', async () => {
    const { dir, cleanup } = await tempDir('xlt-few-shot-multi-e2e-');
    try {
      const engine = await createEngine([coreModule, taggingModule, averagingModule]);
      const real = engineServices(engine, { log: () => {} });
      const jobs: RunTrainingJob[] = [];
      const services: ExperimentServices = { ...real, train: (job) => (jobs.push(job), real.train(job)) };
      const config = await writeQuickstart({
        out: join(dir, 'bench'), trainSentences: 48, evalSentences: 24,
        overrides: { grid: { ...GRID, learningRate: [3e-3] }, setup: { mode: 'few-shot', shots: 6, seed: 1, variant: 'multi', start: 'pretrained' }, strategies: ['last'], output: 'results' },
      });
      const ctx = await prepareExperiment(config, engine, real, { note: () => {} });
      const outcome = await runExperiment(config, { engine, services, print: () => {}, stderr: () => {} });
      const run = 'lr=0.003_bs=16_ep=1_sched=linear_wu=0.1_seed=1_shots=6_multi';
      expect(jobs.map((j) => j.runId)).toEqual([run]);
      expect(jobs[0]!.model).toBe(join(dir, 'bench', 'tiny-random-bert'));
      expect(jobs[0]!.train.map((s) => JSON.stringify(s))).toEqual([...ctx.data.train, ...ctx.data.targets.flatMap((t) => t.shots!)].map((s) => JSON.stringify(s)));
      expect(jobs[0]!.train).toHaveLength(48 + 3 * 6);
      const done = JSON.parse(await readFile(join(outcome.outDir, 'runs', run, 'done.json'), 'utf8')) as RunDoneMarker;
      expect(done.init).toEqual({ from: 'pretrained', model: join(dir, 'bench', 'tiny-random-bert') });
      expect(await readdir(join(outcome.outDir, 'runs'))).toEqual([run]);
      expect((await readdir(join(outcome.outDir, 'eval', 'last', run))).sort()).toEqual([...TARGETS].sort());
      expect(outcome.records.filter((r) => r.metric === 'accuracy').map((r) => r.language).sort()).toEqual([...TARGETS].sort());
    } finally {
      await cleanup();
    }
  });
});
