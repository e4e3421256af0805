import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { experimentModule } from './experiment-module.js';
import { experimentIdentity, identityDifferences } from './experiment-identity.js';
import { runExperiment } from './runner.js';
import { toyModule } from './testing/toy-module.js';
import { toyServices, type ToyCalls } from './testing/toy-services.js';
import { writeToyExperiment } from './testing/toy-benchmark.js';
import { experimentSchema } from '../config/experiment-schema.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
const quiet = { print: () => {}, stderr: () => {} };
const GRID = { learningRate: [0.5, 0.1], batchSize: [8], epochs: [2], warmup: [0] };
const key = (lr: number, seed: number) => `lr=${lr}_bs=8_ep=2_sched=linear_wu=0_seed=${seed}`;

/** Every file under a folder with its bytes' hash and its mtime. */
async function snapshot(dir: string): Promise<Record<string, { sha256: string; mtimeMs: number }>> {
  const out: Record<string, { sha256: string; mtimeMs: number }> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    out[file.slice(dir.length + 1)] = { sha256: createHash('sha256').update(await readFile(file)).digest('hex'), mtimeMs: (await stat(file)).mtimeMs };
  }
  return out;
}

describe('the identity of an experiment', () => {
  const base = experimentSchema.parse({ name: 'x', task: 'toy', model: 'm', source: { language: 'en', train: 't' }, targets: { de: { test: 'd' } } });
  it('leaves out the grid, strategies, sinks, backend and retention, and keeps what defines a run', () => {
    const grown = { ...base, grid: { ...base.grid, seeds: [1, 2, 3], learningRate: [1e-5, 2e-5] }, strategies: ['last'], retention: 'needed' as const, backend: 'tfjs-cpu' };
    expect(identityDifferences(experimentIdentity(base), grown)).toEqual([]);
    expect(identityDifferences(experimentIdentity(base), { ...base, training: { ...base.training, maxLength: 64 } })).toEqual(['training']);
    expect(identityDifferences(experimentIdentity(base), { ...base, checkpoints: { perEpoch: 2 } })).toEqual(['checkpoints']);
    expect(identityDifferences(experimentIdentity(base), { ...base, model: 'other', source: { language: 'de', train: 't' } })).toEqual(['model', 'source']);
  });
  it('reads the identity a folder recorded with its grid, comparing everything else', () => {
    const recorded = { ...(experimentIdentity(base) as object), grid: { seeds: [9] } };
    expect(identityDifferences(recorded, base)).toEqual([]);
    expect(identityDifferences({ ...recorded, setup: { mode: 'few-shot', shots: 2 } }, base)).toEqual(['setup']);
  });
});

describe('a grid that grows: seeds [1] finished, then seeds [1, 2]', () => {
  it('trains only the new run of each setting, leaves the finished runs byte for byte, rebuilds the run averages and reports both', async () => {
    const t = await tempDir('xlt-grow-');
    cleanups.push(t.cleanup);
    const engine = await createEngine([toyModule, experimentModule]);
    const strategies = ['last', 'checkpoint-average', 'run-average'];
    const first = await writeToyExperiment(t.dir, { grid: { ...GRID, seeds: [1] }, strategies, runGroups: 'seeds' });
    const out = join(t.dir, 'out');
    const before = await runExperiment(first, { engine, services: toyServices(), ...quiet });
    const oldRuns = [key(0.5, 1), key(0.1, 1)];
    expect((await readdir(join(out, 'runs'))).sort()).toEqual([...oldRuns].sort());
    const runFiles = await snapshot(join(out, 'runs'));
    const caModel = await snapshot(join(out, 'models', 'checkpoint-average'));
    const raBefore = JSON.parse(await readFile(join(out, 'models', 'run-average', 'lr=0.5_bs=8_ep=2_sched=linear_wu=0', 'plan.json'), 'utf8'));
    expect(raBefore.plan.map((p: { run: string }) => p.run)).toEqual([key(0.5, 1)]);

    // The same config with a second seed: the same experiment, grown.
    const grown = await writeToyExperiment(t.dir, { grid: { ...GRID, seeds: [1, 2] }, strategies, runGroups: 'seeds' });
    const trained: string[] = [];
    const calls: ToyCalls = { trainedSteps: 0, merges: 0, predictions: 0 };
    const after = await runExperiment(grown, { engine, services: toyServices({ calls, onTrain: (job) => trained.push(job.runId) }), ...quiet });

    expect(trained.sort()).toEqual([key(0.1, 2), key(0.5, 2)]);
    expect(calls.trainedSteps).toBe(2 * 16);
    const runFilesAfter = await snapshot(join(out, 'runs'));
    for (const [file, seen] of Object.entries(runFiles)) expect(runFilesAfter[file], file).toEqual(seen);
    // The old runs' per-run models are reused as they were; the run averages now average both seeds.
    const caAfter = await snapshot(join(out, 'models', 'checkpoint-average'));
    for (const [file, seen] of Object.entries(caModel)) expect(caAfter[file], file).toEqual(seen);
    const raAfter = JSON.parse(await readFile(join(out, 'models', 'run-average', 'lr=0.5_bs=8_ep=2_sched=linear_wu=0', 'plan.json'), 'utf8'));
    expect(raAfter.plan.map((p: { run: string }) => p.run).sort()).toEqual([key(0.5, 1), key(0.5, 2)]);
    expect(calls.merges).toBe(2 /* CA of the new runs */ + 2 /* RA of each setting */);

    const runsIn = (records: typeof after.records, strategy: string) => [...new Set(records.filter((r) => r.strategy === strategy).map((r) => r.run))].sort();
    expect(runsIn(after.records, 'last')).toEqual([key(0.1, 1), key(0.1, 2), key(0.5, 1), key(0.5, 2)]);
    expect(runsIn(after.records, 'run-average')).toEqual(['lr=0.1_bs=8_ep=2_sched=linear_wu=0', 'lr=0.5_bs=8_ep=2_sched=linear_wu=0']);
    // The old runs' results are the same numbers as before.
    const old = (records: typeof after.records) => records.filter((r) => r.strategy !== 'run-average' && oldRuns.includes(r.run));
    expect(old(after.records)).toEqual(old(before.records));
    const csv = await readFile(join(out, 'results.csv'), 'utf8');
    expect(csv).toContain(key(0.5, 2));
    expect(await readFile(join(out, 'report.html'), 'utf8')).toContain(key(0.1, 2));

    // Growing again by a learning rate trains only its runs; the groups that kept their runs are not rebuilt.
    const third = await writeToyExperiment(t.dir, { grid: { ...GRID, learningRate: [0.5, 0.1, 0.3], seeds: [1, 2] }, strategies, runGroups: 'seeds' });
    const raKept = await snapshot(join(out, 'models', 'run-average', 'lr=0.5_bs=8_ep=2_sched=linear_wu=0'));
    const trained3: string[] = [];
    const calls3: ToyCalls = { trainedSteps: 0, merges: 0, predictions: 0 };
    await runExperiment(third, { engine, services: toyServices({ calls: calls3, onTrain: (job) => trained3.push(job.runId) }), ...quiet });
    expect(trained3.sort()).toEqual([key(0.3, 1), key(0.3, 2)]);
    expect(calls3.merges).toBe(2 + 1);
    expect(await snapshot(join(out, 'models', 'run-average', 'lr=0.5_bs=8_ep=2_sched=linear_wu=0'))).toEqual(raKept);
  });
});
