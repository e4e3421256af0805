import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { coreModule } from '@xlt/core';
import { CheckpointMerger, createEngine, MergeMethod, type RunInfo } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { ContainerModule } from 'inversify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { averageRuns } from '../average-runs.js';
import { averagingModule } from '../index.js';
import { CheckpointAverageStrategy } from '../strategies/index.js';
import { writeToyCheckpoint } from '../testing/checkpoint-fixtures.js';
import { builtinMergeMethods } from './builtins.js';
import { mergeMethodsOf, mergePlan, methodMerger } from './compose.js';
import { mergeCheckpoints } from './merge-checkpoints.js';

let dir: string;
let cleanup: () => Promise<void>;
let run: RunInfo;
let base: string;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('xlt-merge-compose-'));
  const checkpoints = [];
  for (const step of [1, 2, 3]) {
    const path = join(dir, `checkpoint-${step}.safetensors`);
    await writeToyCheckpoint(path, step);
    checkpoints.push({ path, run: 'r', step });
  }
  run = { id: 'r', checkpoints };
  base = join(dir, 'base.safetensors');
  await writeToyCheckpoint(base, 9);
});
afterAll(() => cleanup());

describe('composing strategies and merge methods', () => {
  it('mergePlan merges the plan a strategy returns, as mergeCheckpoints does with the same weights', async () => {
    const plan = await new CheckpointAverageStrategy().plan([run], { lastK: 2 });
    const result = await mergePlan(plan, { method: 'ties', params: { density: 0.5 }, base }, join(dir, 'plan.safetensors'));
    expect(result.inputs.map((i) => i.path)).toEqual([run.checkpoints[1]!.path, run.checkpoints[2]!.path]);
    expect(result.params).toEqual({ density: 0.5, lambda: 1, normalize: true });
    await mergeCheckpoints(plan.map((p) => ({ path: p.checkpoint.path, weight: p.weight })), join(dir, 'direct.safetensors'), { method: 'ties', params: { density: 0.5 }, base });
    expect((await readFile(join(dir, 'plan.safetensors'))).equals(await readFile(join(dir, 'direct.safetensors')))).toBe(true);
  });

  it('averageRuns with merge writes the merged model of each plan', async () => {
    const [model] = await averageRuns([run], new CheckpointAverageStrategy(), { lastK: 2 }, { out: join(dir, 'runs.safetensors'), merge: { method: 'ties', params: { density: 0.5 }, base } });
    expect(model!.plan).toHaveLength(2);
    expect((await readFile(join(dir, 'runs.safetensors'))).equals(await readFile(join(dir, 'plan.safetensors')))).toBe(true);
  });

  it('methodMerger is a CheckpointMerger an engine can use in place of streaming-mean', async () => {
    const merger = methodMerger({ method: 'dare_ties', params: { density: 0.5, seed: 1 }, base });
    expect(merger.id).toBe('dare-ties-merge');
    const engine = await createEngine([coreModule, averagingModule, new ContainerModule(({ bind }) => void bind(CheckpointMerger).toConstantValue(merger))]);
    expect(engine.mergers.ids()).toEqual(['dare-linear', 'dare-ties', 'dare-ties-merge', 'model-stock', 'slerp', 'streaming-mean', 'task-arithmetic', 'ties']);
    const plan = await new CheckpointAverageStrategy().plan([run], {});
    await engine.mergers.get('dare-ties-merge').merge(plan, join(dir, 'merger.safetensors'));
    await mergePlan(plan, { method: 'dare_ties', params: { density: 0.5, seed: 1 }, base }, join(dir, 'merger-direct.safetensors'));
    expect((await readFile(join(dir, 'merger.safetensors'))).equals(await readFile(join(dir, 'merger-direct.safetensors')))).toBe(true);
    await expect(methodMerger({ method: 'ties' }).merge(plan, join(dir, 'never.safetensors'))).rejects.toThrow('needs a base model');
  });

  it('averagingModule binds every built-in method under MergeMethod; a plugin adds its own, and duplicates are refused', async () => {
    const engine = await createEngine([coreModule, averagingModule]);
    expect(mergeMethodsOf(engine).ids()).toEqual(builtinMergeMethods().map((m) => m.id).sort());
    const mine = { ...builtinMergeMethods()[0]!, id: 'my_linear' };
    const withMine = await createEngine([coreModule, averagingModule, new ContainerModule(({ bind }) => void bind(MergeMethod).toConstantValue(mine))]);
    expect(mergeMethodsOf(withMine).get('my_linear')).toBe(mine);
    const dup = await createEngine([coreModule, averagingModule, new ContainerModule(({ bind }) => void bind(MergeMethod).toConstantValue(builtinMergeMethods()[2]!))]);
    expect(() => mergeMethodsOf(dup)).toThrow('Two merge method plugins have the id "ties"');
  });
});
