import { existsSync } from 'node:fs';
import { cp, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, type CheckpointInfo } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { experimentModule } from './experiment-module.js';
import { checkpointsToKeep } from './retention.js';
import { runExperiment } from './runner.js';
import { toyModule } from './testing/toy-module.js';
import { toyServices, type ToyCalls } from './testing/toy-services.js';
import { writeToyExperiment } from './testing/toy-benchmark.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
async function workDir() {
  const t = await tempDir('xlt-retention-');
  cleanups.push(t.cleanup);
  return t.dir;
}
const quiet = { print: () => {}, stderr: () => {} };
const GRID = { learningRate: [0.5], batchSize: [8], epochs: [2], warmup: [0], seeds: [1, 2] };
const RUNS = ['lr=0.5_bs=8_ep=2_sched=linear_wu=0_seed=1', 'lr=0.5_bs=8_ep=2_sched=linear_wu=0_seed=2'];
const STRATEGIES = ['last', 'best-source-dev', 'checkpoint-average', 'run-average'];
const noCalls = (): ToyCalls => ({ trainedSteps: 0, merges: 0, predictions: 0 });
const checkpointsIn = async (dir: string) => (await readdir(dir)).filter((d) => d.startsWith('checkpoint-')).map((d) => Number(d.slice('checkpoint-'.length))).sort((a, b) => a - b);

describe('which checkpoints retention keeps', () => {
  const cps = [4, 8, 12, 16].map((step): CheckpointInfo => ({ path: `/o/runs/r/checkpoint-${step}`, run: 'r', step, epoch: step / 8, totalSteps: 16 }));
  it('all: every one; needed: the final one and selected ones; keepLast N: also the N newest', () => {
    expect([...checkpointsToKeep('all', cps, new Set())].sort((a, b) => a - b)).toEqual([4, 8, 12, 16]);
    expect([...checkpointsToKeep('needed', cps, new Set())]).toEqual([16]);
    expect([...checkpointsToKeep('needed', cps, new Set(['/o/runs/r/checkpoint-8']))].sort((a, b) => a - b)).toEqual([8, 16]);
    expect([...checkpointsToKeep({ keepLast: 2 }, cps, new Set(['/o/runs/r/checkpoint-4']))].sort((a, b) => a - b)).toEqual([4, 12, 16]);
    expect([...checkpointsToKeep({ keepLast: 9 }, cps, new Set())].length).toBe(4);
  });
});

describe('retention on the toy experiment', () => {
  it('deletes what no model needs only after every model is built and evaluated; results equal keeping all; a re-run needs nothing deleted', async () => {
    const dir = await workDir();
    const engine = await createEngine([toyModule, experimentModule]);
    const keepAll = await writeToyExperiment(dir, { grid: GRID, strategies: STRATEGIES });
    const reference = await runExperiment(keepAll, { engine, services: toyServices(), out: join(dir, 'all'), ...quiet });
    for (const run of RUNS) expect(await checkpointsIn(join(dir, 'all', 'runs', run))).toEqual([4, 8, 12, 16]);

    const config = await writeToyExperiment(dir, { grid: GRID, strategies: STRATEGIES, retention: { keepLast: 1 } });
    const out = join(dir, 'kept');
    const notes: string[] = [];
    const outcome = await runExperiment(config, { engine, services: toyServices(), out, print: () => {}, stderr: (t) => notes.push(t) });
    expect(outcome.records).toEqual(reference.records);
    expect(notes.join('')).toMatch(/retention \{"keepLast":1\}: deleted \d+ checkpoints no model needs/);
    for (const run of RUNS) {
      const best = JSON.parse(await readFile(join(out, 'models', 'best-source-dev', run, 'plan.json'), 'utf8')).plan[0].step as number;
      const kept = await checkpointsIn(join(out, 'runs', run));
      // The newest, and the one best-source-dev selected (its model is that folder).
      expect(kept).toEqual([...new Set([best, 16])].sort((a, b) => a - b));
      const marker = JSON.parse(await readFile(join(out, 'runs', run, 'retention.json'), 'utf8'));
      expect(marker).toEqual({ run, deleted: [4, 8, 12, 16].filter((s) => !kept.includes(s)) });
      // The averaged models are folders of their own and stay loadable.
      expect(existsSync(join(out, 'models', 'checkpoint-average', run, 'model', 'model.json'))).toBe(true);
    }

    // A re-run finds every run done and every model built: nothing is trained, merged or predicted, same results.
    const calls = noCalls();
    const again = await runExperiment(config, { engine, services: toyServices({ calls }), out, ...quiet });
    expect(calls).toEqual(noCalls());
    expect(again.records).toEqual(reference.records);

    // A deletion cut short (recorded, folder still there) is finished by the next run.
    const deleted = JSON.parse(await readFile(join(out, 'runs', RUNS[0]!, 'retention.json'), 'utf8')).deleted[0] as number;
    await cp(join(dir, 'all', 'runs', RUNS[0]!, `checkpoint-${deleted}`), join(out, 'runs', RUNS[0]!, `checkpoint-${deleted}`), { recursive: true });
    await runExperiment(config, { engine, services: toyServices(), out, ...quiet });
    expect(existsSync(join(out, 'runs', RUNS[0]!, `checkpoint-${deleted}`))).toBe(false);

    // A strategy added later that would average deleted checkpoints is refused, naming them; nothing is built.
    const more = await writeToyExperiment(dir, { grid: GRID, strategies: [...STRATEGIES, 'checkpoint-run-average'], retention: { keepLast: 1 } });
    const error = (await runExperiment(more, { engine, services: toyServices(), out, ...quiet }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toContain('The model of strategy "checkpoint-run-average" for lr=0.5_bs=8_ep=2_sched=linear_wu=0');
    expect(error.message).toContain(`would need checkpoints that "retention" ({"keepLast":1}) deleted: ${RUNS[0]} (checkpoint-${deleted}`);
    expect(existsSync(join(out, 'models', 'checkpoint-run-average'))).toBe(false);
  });

  it('needed, few-shot continuing zero-shot runs: the final checkpoints they start from stay, and a few-shot run trained again starts from one', async () => {
    const dir = await workDir();
    const engine = await createEngine([toyModule, experimentModule]);
    const setup = { mode: 'few-shot', shots: 6, seed: 1, variant: 'multi', start: 'zero-shot' };
    const config = await writeToyExperiment(dir, { setup, grid: { ...GRID, seeds: [1] }, strategies: ['last', 'checkpoint-average'], retention: 'needed' });
    const out = join(dir, 'out');
    await runExperiment(config, { engine, services: toyServices(), ...quiet });
    const zeroShot = RUNS[0]!;
    expect(await checkpointsIn(join(out, 'runs', zeroShot))).toEqual([16]);

    // The few-shot run is retrained from scratch when its marker is lost: it starts from the kept final checkpoint.
    const fewShot = (await readdir(join(out, 'runs'))).find((r) => r.includes('_shots='))!;
    await rm(join(out, 'runs', fewShot), { recursive: true });
    await rm(join(out, 'models'), { recursive: true });
    await rm(join(out, 'eval'), { recursive: true });
    const inits: string[] = [];
    await runExperiment(config, { engine, services: toyServices({ onTrain: (job) => inits.push(`${job.runId} <- ${job.model}`) }), ...quiet });
    expect(inits).toEqual([`${fewShot} <- ${join(out, 'runs', zeroShot, 'checkpoint-16')}`]);
  });
});
