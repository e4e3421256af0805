import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ContainerModule } from 'inversify';
import { CheckpointMerger, createEngine } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { readCheckpointScores } from '../report/checkpoint-scores.js';
import { trajectoryView } from '../report/trajectory-view.js';
import { experimentModule } from './experiment-module.js';
import { runExperiment } from './runner.js';
import { toyModule } from './testing/toy-module.js';
import { toyServices } from './testing/toy-services.js';
import { writeToyExperiment } from './testing/toy-benchmark.js';
import { tensorMerger } from './testing/tensor-merger.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('the trajectory of an experiment whose targets have no dev data', () => {
  it('records checkpoint averaging over the first k checkpoints on source dev, which the report draws over training', async () => {
    const t = await tempDir('xlt-source-trajectory-');
    cleanups.push(t.cleanup);
    const targets = { xx: { test: 'data/xx-test.tsv' }, yy: { test: 'data/yy-test.tsv' } };
    const config = await writeToyExperiment(t.dir, { targets, grid: { learningRate: [0.5], batchSize: [8], epochs: [2], warmup: [0], seeds: [1, 2] }, strategies: ['last', 'best-source-dev', 'checkpoint-average'] });
    const out = join(t.dir, 'out');
    // The runner averages only where a merger is registered (the toy services build the averages themselves).
    const engine = await createEngine([toyModule, experimentModule, new ContainerModule(({ bind }) => void bind(CheckpointMerger).toConstantValue(tensorMerger))]);
    const outcome = await runExperiment(config, { engine, services: toyServices(), out, print: () => {}, stderr: () => {} });
    for (const run of ['lr=0.5_bs=8_ep=2_sched=linear_wu=0_seed=1', 'lr=0.5_bs=8_ep=2_sched=linear_wu=0_seed=2']) {
      const done = JSON.parse(await readFile(join(out, 'runs', run, 'done.json'), 'utf8')) as { checkpoints: { sourceDev: Record<string, number>; prefixAverageSourceDev?: Record<string, number>; targetDev?: unknown }[] };
      expect(done.checkpoints.length).toBe(4);
      // Entry 1 is the first checkpoint itself; later ones are averages the runner built and scored.
      expect(done.checkpoints[0]!.prefixAverageSourceDev).toEqual(done.checkpoints[0]!.sourceDev);
      for (const c of done.checkpoints) {
        expect(c.targetDev).toBeUndefined();
        expect(Object.values(c.prefixAverageSourceDev ?? {}).every(Number.isFinite)).toBe(true);
        expect(Object.keys(c.prefixAverageSourceDev ?? {})).toEqual(Object.keys(c.sourceDev));
      }
    }
    const metric = outcome.records.find((r) => r.strategy === 'last')!.metric;
    const view = trajectoryView(outcome.records, await readCheckpointScores(out), metric)!;
    expect(view.data).toBe('source dev');
    expect(view.runs).toHaveLength(2);
    expect(view.prefixAverage).toBe(true);
    expect(view.lines[view.languages[0]!]!.map((l) => l.strategy)).toEqual(['last', 'checkpoint-average', 'best-source-dev']);
    const report = await readFile(join(out, 'report.html'), 'utf8');
    expect(report).toContain("source language's dev data");
  });
});
