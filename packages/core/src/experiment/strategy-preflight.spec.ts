import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ContainerModule } from 'inversify';
import { afterEach, describe, expect, it } from 'vitest';
import { AveragingStrategy, XltError, createEngine, type RunInfo } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { z } from 'zod';
import { experimentModule } from './experiment-module.js';
import { runExperiment } from './runner.js';
import { plannedSteps } from './strategy-preflight.js';
import { toyModule } from './testing/toy-module.js';
import { toyServices, type ToyCalls } from './testing/toy-services.js';
import { writeToyExperiment } from './testing/toy-benchmark.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** Like `weighted`: one weight per checkpoint of its runs, an error otherwise, so it only fits one grid. */
const perCheckpointWeights: AveragingStrategy<{ weights: number[] }> = {
  id: 'per-checkpoint-weights',
  description: 'one weight per checkpoint',
  scope: 'across-runs',
  oracle: false,
  optionsSchema: z.strictObject({ weights: z.array(z.number()) }),
  async plan(runs: readonly RunInfo[], options) {
    const all = runs.flatMap((r) => r.checkpoints);
    if (options.weights.length !== all.length) throw new XltError(`${options.weights.length} weights given for ${all.length} checkpoints`);
    return all.map((checkpoint, i) => ({ checkpoint, weight: options.weights[i]! / options.weights.reduce((a, b) => a + b, 0) }));
  },
};
const weightsModule = new ContainerModule(({ bind }) => void bind(AveragingStrategy).toConstantValue(perCheckpointWeights));

/** The toy services, plus the feature count the real services give (one feature per toy example). */
const counting = (calls: ToyCalls) => ({ ...toyServices({ calls }), countTrainingFeatures: async (input: { train: readonly unknown[] }) => input.train.length });

describe('strategies planned before training', () => {
  it('plannedSteps counts as the trainer does: batches, accumulation, checkpoints per epoch or every N steps, the last step always', () => {
    const run = { key: 'r', point: { learningRate: 1e-3, batchSize: 8, epochs: 2, schedule: 'linear', warmup: 0, seed: 1 } } as const;
    const config = (gradientAccumulation: number, checkpoints: { perEpoch: number; everySteps?: number }) => ({ config: { training: { gradientAccumulation }, checkpoints } }) as never;
    // 60 features / 8 = 8 batches per epoch.
    expect(plannedSteps(config(1, { perEpoch: 2 }), run as never, 60)).toEqual({ stepsPerEpoch: 8, totalSteps: 16, checkpoints: [4, 8, 12, 16] });
    expect(plannedSteps(config(3, { perEpoch: 1 }), run as never, 60)).toEqual({ stepsPerEpoch: 3, totalSteps: 6, checkpoints: [3, 6] });
    expect(plannedSteps(config(1, { perEpoch: 1, everySteps: 5 }), run as never, 60).checkpoints).toEqual([5, 10, 15, 16]);
    expect(() => plannedSteps(config(9, { perEpoch: 1 }), run as never, 60)).toThrow(/gradientAccumulation is 9, but an epoch of run r \(60 training features in batches of 8\) has 8 batches/);
  });

  it('a strategy whose options do not fit the checkpoints the grid will save fails before anything is trained, naming it', async () => {
    const { dir, cleanup } = await tempDir('xlt-preflight-');
    cleanups.push(cleanup);
    // 2 seeds per group (runGroups: seeds keeps learning rates apart) x 4 checkpoints = 8 weights needed.
    const config = await writeToyExperiment(dir, { strategies: ['last', { id: 'per-checkpoint-weights', options: { weights: [1, 2, 3] } }] });
    const engine = await createEngine([toyModule, weightsModule, experimentModule]);
    const calls: ToyCalls = { trainedSteps: 0, merges: 0, predictions: 0 };
    const error = await runExperiment(config, { engine, services: counting(calls), print: () => {}, stderr: () => {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XltError);
    expect((error as Error).message).toMatch(/^strategies: "per-checkpoint-weights" cannot plan over the checkpoints this grid will save \(\d+ runs? with \d+ checkpoints each\): 3 weights given for \d+ checkpoints\. Nothing was trained\.$/);
    expect(calls).toEqual({ trainedSteps: 0, merges: 0, predictions: 0 });
    expect(existsSync(join(dir, 'out', 'runs'))).toBe(false);
  });

  it('options that fit pass the check, and the experiment trains and averages as usual', async () => {
    const { dir, cleanup } = await tempDir('xlt-preflight-');
    cleanups.push(cleanup);
    const engine = await createEngine([toyModule, weightsModule, experimentModule]);
    // Ask the check itself how many checkpoints a group has: the error names it.
    const probe = await writeToyExperiment(dir, { strategies: [{ id: 'per-checkpoint-weights', options: { weights: [1] } }] });
    const message = String(await runExperiment(probe, { engine, services: counting({ trainedSteps: 0, merges: 0, predictions: 0 }), print: () => {}, stderr: () => {} }).catch((e: unknown) => (e as Error).message));
    const needed = Number(/1 weights given for (\d+) checkpoints/.exec(message)?.[1]);
    expect(needed, message).toBeGreaterThan(1);
    const config = await writeToyExperiment(dir, { strategies: [{ id: 'per-checkpoint-weights', options: { weights: Array.from({ length: needed }, (_, i) => i + 1) } }] });
    const calls: ToyCalls = { trainedSteps: 0, merges: 0, predictions: 0 };
    const outcome = await runExperiment(config, { engine, services: counting(calls), print: () => {}, stderr: () => {} });
    expect(calls.trainedSteps).toBeGreaterThan(0);
    expect(outcome.records.some((r) => r.strategy === 'per-checkpoint-weights')).toBe(true);
  });
});
