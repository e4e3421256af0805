import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, InputError } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { experimentModule } from './experiment-module.js';
import { runExperiment } from './runner.js';
import { toyModule } from './testing/toy-module.js';
import { toyServices, type ToyCalls } from './testing/toy-services.js';
import { writeToyExperiment } from './testing/toy-benchmark.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
async function workDir() {
  const t = await tempDir('xlt-experiment-');
  cleanups.push(t.cleanup);
  return t.dir;
}
const quiet = { print: () => {}, stderr: () => {} };
const RUNS = ['lr=0.5_bs=8_ep=2_sched=linear_wu=0_seed=1', 'lr=0.5_bs=8_ep=2_sched=linear_wu=0_seed=2', 'lr=0.1_bs=8_ep=2_sched=linear_wu=0_seed=1', 'lr=0.1_bs=8_ep=2_sched=linear_wu=0_seed=2'];
const STRATEGIES = ['best-source-dev', 'checkpoint-average', 'checkpoint-run-average', 'last', 'oracle-target-dev', 'run-average'];

describe('xlt run on a toy experiment (2 learning rates x 2 seeds)', () => {
  it('trains every run, builds every strategy and evaluates it on every target language', async () => {
    const dir = await workDir();
    const config = await writeToyExperiment(dir);
    const engine = await createEngine([toyModule, experimentModule]);
    const calls: ToyCalls = { trainedSteps: 0, merges: 0, predictions: 0 };
    const printed: string[] = [];
    const outcome = await runExperiment(config, { engine, services: toyServices({ calls }), print: (t) => printed.push(t), stderr: () => {} });
    const out = join(dir, 'out');
    expect(outcome.outDir).toBe(out);

    expect((await readdir(join(out, 'runs'))).sort()).toEqual([...RUNS].sort());
    for (const run of RUNS) {
      // 60 examples / batch 8 = 8 steps per epoch, 2 epochs, 2 checkpoints per epoch.
      expect((await readdir(join(out, 'runs', run))).sort()).toEqual(['checkpoint-12', 'checkpoint-16', 'checkpoint-4', 'checkpoint-8', 'done.json']);
    }
    expect((await readdir(join(out, 'eval'))).sort()).toEqual(STRATEGIES);
    for (const strategy of STRATEGIES) {
      const across = strategy === 'run-average' || strategy === 'checkpoint-run-average';
      // runGroups defaults to seeds: one across-run model per learning rate.
      for (const run of across ? ['lr=0.5_bs=8_ep=2_sched=linear_wu=0', 'lr=0.1_bs=8_ep=2_sched=linear_wu=0'] : RUNS) {
        for (const lang of ['xx', 'yy', 'zz']) {
          const preds = (await readFile(join(out, 'eval', strategy, run, lang, 'predictions.txt'), 'utf8')).trim().split('\n');
          expect(preds).toHaveLength(45);
          expect(preds.every((p) => ['a', 'b', 'c'].includes(p))).toBe(true);
          const metrics = JSON.parse(await readFile(join(out, 'eval', strategy, run, lang, 'metrics.json'), 'utf8'));
          expect(metrics.oracle).toBe(strategy === 'oracle-target-dev');
        }
      }
    }
    // Oracle models are per language; averaged models are merged once; selections point at their checkpoint.
    expect(existsSync(join(out, 'models', 'oracle-target-dev', RUNS[0]!, 'yy', 'plan.json'))).toBe(true);
    expect(existsSync(join(out, 'models', 'checkpoint-average', RUNS[0]!, 'model', 'model.json'))).toBe(true);
    const lastPlan = JSON.parse(await readFile(join(out, 'models', 'last', RUNS[0]!, 'plan.json'), 'utf8'));
    expect(lastPlan.plan).toEqual([{ run: RUNS[0], step: 16, path: `../../../runs/${RUNS[0]}/checkpoint-16`, weight: 1 }]);
    expect(calls.merges).toBe(4 + 2 + 2); // CA per run, RA and CA+RA once per learning rate

    // Results: one record per model x language x metric (accuracy, errors); the oracle marked.
    const models = 3 * 4 /* last, best-source-dev, CA per run */ + 2 * 2 /* RA, CA+RA per learning rate */;
    expect(outcome.records).toHaveLength((models * 3 + 4 * 3 /* oracle per run and language */) * 2);
    const csv = (await readFile(join(out, 'results.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('experiment,task,run,strategy,language,metric,value,oracle,learningRate,batchSize,epochs,schedule,warmup,seed,strategyId,strategyOptions,headProtocol');
    expect(csv).toHaveLength(outcome.records.length + 1);
    expect(csv.filter((l) => l.includes(',oracle-target-dev,')).every((l) => l.includes(',true,'))).toBe(true);
    expect(csv.slice(1).every((l) => l.endsWith(',{},shared-frozen'))).toBe(true);
    const json = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
    expect(json.records).toEqual(outcome.records);
    expect(json.summary.accuracy.map((s: { strategy: string }) => s.strategy).sort()).toEqual(STRATEGIES);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toContain('id="plot-languages"');
    expect(printed.join('')).toMatch(/oracle-target-dev \(ORACLE\)/);
    // The default head protocol: one shared head, trained once before the grid, frozen in every run.
    expect(outcome.records.every((r) => r.headProtocol === 'shared-frozen' && r.strategyId === r.strategy)).toBe(true);
    expect(printed.join('')).toContain('Head protocol: shared-frozen');
    expect(html).toContain('Head protocol: shared-frozen');
    expect(json.headProtocol).toBe('shared-frozen');
    const head = JSON.parse(await readFile(join(out, 'head', 'head.json'), 'utf8'));
    expect(head).toMatchObject({ protocol: 'shared-frozen', seed: 0, steps: 16, settings: { learningRate: 0.5, epochs: 2, batchSize: 8, examples: 60 } });
    for (const run of RUNS) {
      const done = JSON.parse(await readFile(join(out, 'runs', run, 'done.json'), 'utf8'));
      expect(done.head).toEqual({ protocol: 'shared-frozen', seed: 0, sha256: head.sha256 });
      const final = JSON.parse(await readFile(join(out, 'runs', run, 'checkpoint-16', 'model.json'), 'utf8'));
      const shared = JSON.parse(await readFile(join(out, 'head', 'toy-head.json'), 'utf8'));
      expect(final.weights).toEqual(shared.weights);
    }
    // The toy task is learnable: the final models beat chance (33%) on every target language.
    const last = outcome.records.filter((r) => r.strategy === 'last' && r.metric === 'accuracy');
    expect(Math.min(...last.map((r) => r.value))).toBeGreaterThan(50);
  });

  it('fails before training when a target file is unreadable, naming the file, line and config path', async () => {
    const dir = await workDir();
    const config = await writeToyExperiment(dir);
    await writeFile(join(dir, 'data', 'yy-test.tsv'), 'a\t1 2 3 4\nthis line is broken\n');
    const engine = await createEngine([toyModule, experimentModule]);
    const calls: ToyCalls = { trainedSteps: 0, merges: 0, predictions: 0 };
    const error = await runExperiment(config, { engine, services: toyServices({ calls }), ...quiet }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toContain(`${join(dir, 'data', 'yy-test.tsv')}:2 at targets.yy.test: expected label<TAB>numbers`);
    expect((error as Error).message).toContain('nothing was trained');
    expect(calls.trainedSteps).toBe(0);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('fails before training on an unknown strategy or a missing file, with located errors', async () => {
    const dir = await workDir();
    const config = await writeToyExperiment(dir, { strategies: ['last', 'model-soup'] });
    const engine = await createEngine([toyModule, experimentModule]);
    const calls: ToyCalls = { trainedSteps: 0, merges: 0, predictions: 0 };
    const error = await runExperiment(config, { engine, services: toyServices({ calls }), ...quiet }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/experiment\.json:\d+:\d+ at strategies\[1\]: expected a known averaging strategy \(.*last.*\), found "model-soup"/);

    const config2 = await writeToyExperiment(dir, { targets: { xx: { test: 'data/missing.tsv' } } });
    const error2 = await runExperiment(config2, { engine, services: toyServices({ calls }), ...quiet }).catch((e: unknown) => e);
    expect((error2 as Error).message).toContain(`${join(dir, 'data', 'missing.tsv')} at targets.xx.test: expected a readable file, found ENOENT`);
    expect(calls.trainedSteps).toBe(0);
  });

  it('continues after being killed mid-grid: finished runs are not redone and the results equal an uninterrupted run', async () => {
    const dir = await workDir();
    const config = await writeToyExperiment(dir);
    const engine = await createEngine([toyModule, experimentModule]);
    const reference = await runExperiment(config, { engine, services: toyServices(), out: join(dir, 'reference'), ...quiet });

    const out = join(dir, 'interrupted');
    const child = spawn(process.execPath, [join(import.meta.dirname, 'testing', 'run-ts-child.mjs'), join(import.meta.dirname, '..', '..'), join(import.meta.dirname, 'testing', 'toy-child.ts'), config, out, '40'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const firstDone = join(out, 'runs', RUNS[0]!, 'done.json');
    const started = Date.now();
    while (!existsSync(firstDone)) {
      if (child.exitCode !== null) throw new Error(`the child ended before finishing a run (code ${child.exitCode}): ${stderr}`);
      if (Date.now() - started > 90_000) throw new Error(`timed out waiting for ${firstDone}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await exited;
    expect(existsSync(join(out, 'runs', RUNS[1]!, 'done.json'))).toBe(false);
    expect(existsSync(join(out, 'results.json'))).toBe(false);
    const firstMtime = (await stat(firstDone)).mtimeMs;
    const checkpointMtime = (await stat(join(out, 'runs', RUNS[0]!, 'checkpoint-16', 'model.json'))).mtimeMs;

    const calls: ToyCalls = { trainedSteps: 0, merges: 0, predictions: 0 };
    const resumed = await runExperiment(config, { engine, services: toyServices({ calls }), out, ...quiet });
    expect((await stat(firstDone)).mtimeMs).toBe(firstMtime);
    expect((await stat(join(out, 'runs', RUNS[0]!, 'checkpoint-16', 'model.json'))).mtimeMs).toBe(checkpointMtime);
    expect(calls.trainedSteps).toBeLessThanOrEqual(3 * 16); // the first run is not retrained; the second resumes
    expect(resumed.records).toEqual(reference.records);

    // A third run finds everything done: nothing is trained, merged or predicted again.
    const again: ToyCalls = { trainedSteps: 0, merges: 0, predictions: 0 };
    const third = await runExperiment(config, { engine, services: toyServices({ calls: again }), out, ...quiet });
    expect(again).toEqual({ trainedSteps: 0, merges: 0, predictions: 0 });
    expect(third.records).toEqual(reference.records);
  });
});
