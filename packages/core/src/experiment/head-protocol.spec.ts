import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { experimentModule } from './experiment-module.js';
import { runExperiment } from './runner.js';
import type { HeadTrainingJob, RunTrainingJob } from './services.js';
import { writeToyExperiment } from './testing/toy-benchmark.js';
import { toyModule } from './testing/toy-module.js';
import { toyServices, type ToyCalls } from './testing/toy-services.js';
import { sha256File } from './file-hash.js';
import type { Provenance } from './provenance.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
async function workDir() {
  const t = await tempDir('xlt-head-');
  cleanups.push(t.cleanup);
  return t.dir;
}
const quiet = { print: () => {}, stderr: () => {} };
const GRID = { learningRate: [0.5, 0.1], batchSize: [8], epochs: [2], warmup: [0], seeds: [1, 2] };

/** Toy services that record the head jobs and run jobs they get. */
function recording(calls?: ToyCalls) {
  const heads: HeadTrainingJob[] = [];
  const runs: RunTrainingJob[] = [];
  const base = toyServices({ calls, onTrain: (j) => runs.push(j) });
  return { heads, runs, services: { ...base, trainHead: (job: HeadTrainingJob) => (heads.push(job), base.trainHead(job)) } };
}

describe('head protocol', () => {
  it('shared-frozen (default): trains the head once before the grid, every run starts from it frozen, a re-run reuses it', async () => {
    const dir = await workDir();
    const config = await writeToyExperiment(dir, { strategies: ['last', 'run-average'] });
    const engine = await createEngine([toyModule, experimentModule]);
    const first = recording();
    const outcome = await runExperiment(config, { engine, services: first.services, ...quiet });
    expect(first.heads).toHaveLength(1);
    expect(first.heads[0]).toMatchObject({ seed: 0, epochs: 2, learningRate: 0.5, batchSize: 8, headDir: join(outcome.outDir, 'head') });
    expect(first.heads[0]!.train).toHaveLength(60);
    const headFile = join(outcome.outDir, 'head', 'toy-head.json');
    expect(first.runs).toHaveLength(4);
    for (const job of first.runs) expect(job.head).toEqual({ file: headFile, frozen: true });
    expect(new Set(outcome.records.map((r) => r.headProtocol))).toEqual(new Set(['shared-frozen']));

    const calls: ToyCalls = { trainedSteps: 0, merges: 0, predictions: 0 };
    const again = recording(calls);
    const rerun = await runExperiment(config, { engine, services: again.services, ...quiet });
    expect(again.heads).toHaveLength(0);
    expect(calls).toEqual({ trainedSteps: 0, merges: 0, predictions: 0 });
    expect(rerun.records).toEqual(outcome.records);

    // A head file that changed after the head phase is refused, naming the file and both hashes.
    const marker = JSON.parse(await readFile(join(outcome.outDir, 'head', 'head.json'), 'utf8'));
    expect(marker.sha256).toBe(await sha256File(headFile));
    await writeFile(headFile, (await readFile(headFile, 'utf8')).replace('"labels"', '"labels" '));
    const error = await runExperiment(config, { engine, services: toyServices(), ...quiet }).catch((e: unknown) => e);
    expect((error as Error).message).toContain(`${headFile} changed after the head phase wrote it`);
    expect((error as Error).message).toContain(marker.sha256);
  });

  it('shared-frozen: a changed head config is not mixed into a finished output folder', async () => {
    const dir = await workDir();
    const engine = await createEngine([toyModule, experimentModule]);
    const config = await writeToyExperiment(dir, { strategies: ['last'] });
    await runExperiment(config, { engine, services: toyServices(), ...quiet });
    const changed = await writeToyExperiment(dir, { strategies: ['last'], training: { head: { learningRate: 0.5, epochs: 2, seed: 7 } } });
    const error = await runExperiment(changed, { engine, services: toyServices(), ...quiet }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/holds the results of a different experiment/);
    // The same change into another folder trains a head with the new seed.
    const other = recording();
    await runExperiment(changed, { engine, services: other.services, out: join(dir, 'other'), ...quiet });
    expect(other.heads.map((h) => h.seed)).toEqual([7]);
  });

  it('per-run: no head phase, each run trains its own head; results differ from the shared head', async () => {
    const dir = await workDir();
    const engine = await createEngine([toyModule, experimentModule]);
    const shared = await runExperiment(await writeToyExperiment(dir, { strategies: ['run-average'] }), { engine, services: toyServices(), out: join(dir, 'shared'), ...quiet });
    const perRun = recording();
    const config = await writeToyExperiment(dir, { strategies: ['run-average'], training: { head: { protocol: 'per-run' } } });
    const outcome = await runExperiment(config, { engine, services: perRun.services, ...quiet });
    expect(perRun.heads).toHaveLength(0);
    expect(existsSync(join(outcome.outDir, 'head'))).toBe(false);
    for (const job of perRun.runs) expect(job.head).toBeUndefined();
    const done = JSON.parse(await readFile(join(outcome.outDir, 'runs', perRun.runs[0]!.runId, 'done.json'), 'utf8'));
    expect(done.head).toEqual({ protocol: 'per-run' });
    expect(new Set(outcome.records.map((r) => r.headProtocol))).toEqual(new Set(['per-run']));
    const model = async (out: string) => JSON.parse(await readFile(join(out, 'models', 'run-average', 'lr=0.5_bs=8_ep=2_sched=linear_wu=0', 'model', 'model.json'), 'utf8'));
    expect((await model(outcome.outDir)).weights).not.toEqual((await model(shared.outDir)).weights);
  });

  it('few-shot continues the zero-shot runs with the shared head still frozen', async () => {
    const dir = await workDir();
    const engine = await createEngine([toyModule, experimentModule]);
    const config = await writeToyExperiment(dir, { setup: { mode: 'few-shot', shots: 5, variant: 'multi', start: 'zero-shot' }, grid: { ...GRID, learningRate: [0.5] }, strategies: ['last'] });
    const rec = recording();
    const outcome = await runExperiment(config, { engine, services: rec.services, ...quiet });
    expect(rec.heads).toHaveLength(1);
    const headFile = join(outcome.outDir, 'head', 'toy-head.json');
    expect(rec.runs.map((j) => j.runId)).toHaveLength(4);
    for (const job of rec.runs) expect(job.head, job.runId).toEqual({ file: headFile, frozen: true });
    const shared = JSON.parse(await readFile(headFile, 'utf8'));
    for (const job of rec.runs.filter((j) => j.runId.includes('_shots='))) {
      const final = JSON.parse(await readFile(join(job.runDir, 'checkpoint-20', 'model.json'), 'utf8'));
      expect(final.weights).toEqual(shared.weights);
    }
  });
});

describe('provenance.json', () => {
  it('records versions, backend, head, wall time per phase and the sha256 of every data file', async () => {
    const dir = await workDir();
    const config = await writeToyExperiment(dir, { strategies: ['last', 'checkpoint-average', 'run-average'] });
    const engine = await createEngine([toyModule, experimentModule]);
    const outcome = await runExperiment(config, { engine, services: toyServices(), ...quiet });
    const file = join(outcome.outDir, 'provenance.json');
    expect(outcome.files).toContain(file);
    const p = JSON.parse(await readFile(file, 'utf8')) as Provenance;
    const core = JSON.parse(await readFile(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8'));
    expect(p.xlt.version).toBe(core.version);
    // This test runs from the repository's checkout, so a commit is known (best effort elsewhere).
    if (existsSync(join(import.meta.dirname, '..', '..', '..', '..', '.git'))) expect(p.xlt.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(p.node).toBe(process.version);
    expect(p.backend).toEqual({ id: 'toy (auto)', detail: 'toy softmax regression in JavaScript', threads: 1 });
    expect(p.headProtocol).toBe('shared-frozen');
    const head = JSON.parse(await readFile(join(outcome.outDir, 'head', 'head.json'), 'utf8'));
    expect(p.head).toEqual({ file: join('head', 'toy-head.json'), seed: 0, steps: 16, sha256: head.sha256 });
    expect(p.wallSeconds.head).toEqual({ seconds: head.seconds, reused: false });
    expect(Object.keys(p.wallSeconds.runs)).toHaveLength(4);
    for (const t of Object.values(p.wallSeconds.runs)) expect(t.seconds).toBeGreaterThan(0);
    expect(Object.keys(p.wallSeconds.averaging.byStrategy).sort()).toEqual(['checkpoint-average', 'last', 'run-average']);
    expect(p.wallSeconds.evaluation.seconds).toBeGreaterThan(0);
    expect(p.wallSeconds.total).toBeGreaterThanOrEqual(p.wallSeconds.evaluation.seconds);
    expect(p.data.map((d) => d.path)).toEqual(['source.train', 'source.dev', 'targets.xx.test', 'targets.xx.dev', 'targets.yy.test', 'targets.yy.dev', 'targets.zz.test', 'targets.zz.dev']);
    const train = p.data[0]!;
    expect(train.file).toBe(join(dir, 'data', 'en-train.tsv'));
    expect(train.sha256).toBe(await sha256File(train.file));
    expect(new Set(p.data.map((d) => d.sha256)).size).toBe(8);
    expect(Date.parse(p.finishedAt)).toBeGreaterThanOrEqual(Date.parse(p.startedAt));

    // A re-run marks the phases it found done as reused, keeping their recorded times.
    await runExperiment(config, { engine, services: toyServices(), ...quiet });
    const again = JSON.parse(await readFile(file, 'utf8')) as Provenance;
    expect(again.wallSeconds.head).toEqual({ seconds: head.seconds, reused: true });
    expect(Object.values(again.wallSeconds.runs).every((t) => t.reused)).toBe(true);
    expect(again.wallSeconds.runs).toEqual(Object.fromEntries(Object.entries(p.wallSeconds.runs).map(([k, t]) => [k, { ...t, reused: true }])));
  });
});
