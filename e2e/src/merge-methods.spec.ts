import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeQuickstart, type ModelDoneMarker } from '@xlt/core';
import { openCheckpoint } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { mergeCheckpoints } from '@xlt/averaging';
import { xlt } from './run-xlt.js';

const TARGETS = ['syn-near', 'syn-mid', 'syn-far'];

/** Every float tensor of a model folder's weights, by name, as float64 values. */
async function tensors(folder: string): Promise<Map<string, Float64Array>> {
  const checkpoint = await openCheckpoint(folder);
  try {
    const out = new Map<string, Float64Array>();
    for (const [name, info] of checkpoint.tensors) if (info.dtype === 'F32') out.set(name, Float64Array.from(await checkpoint.readFloat32(name)));
    return out;
  } finally {
    await checkpoint.close();
  }
}

// Strategies choose and weight; merge methods do the math: composed per strategy entry in an experiment config.
describe('merge methods in xlt run (TIES over each run, model stock over runs, base = the pretrained model)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let out: string;
  let outcome: Awaited<ReturnType<typeof xlt>>;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('xlt-merge-methods-'));
    const config = await writeQuickstart({
      out: dir,
      trainSentences: 160,
      evalSentences: 60,
      overrides: {
        grid: { learningRate: [3e-3], batchSize: [16], epochs: [2], schedule: ['linear'], warmup: [0.1], seeds: [1, 2] },
        strategies: [
          'last',
          'checkpoint-average',
          { id: 'checkpoint-average', name: 'ca-ties', merger: { id: 'ties', options: { density: 0.5 } } },
          { id: 'run-average', name: 'ra-model-stock', merger: 'model-stock' },
        ],
      },
    });
    out = join(dir, 'results');
    outcome = await xlt(['run', config, '--out', out]);
  }, 600_000);
  afterAll(() => cleanup());

  it('evaluates every entry on every target language', async () => {
    expect(outcome.code, outcome.stderr.slice(-3000)).toBe(0);
    const { records } = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as { records: { strategy: string; language: string; metric: string }[] };
    for (const strategy of ['last', 'checkpoint-average', 'ca-ties', 'ra-model-stock']) {
      expect(new Set(records.filter((r) => r.strategy === strategy && r.metric === 'accuracy').map((r) => r.language)), strategy).toEqual(new Set(TARGETS));
    }
  });

  it('builds the TIES model exactly as mergeCheckpoints does over the same plan and the pretrained base, and records its merger', async () => {
    const run = 'lr=0.003_bs=16_ep=2_sched=linear_wu=0.1_seed=1';
    const markerFile = join(out, 'models', 'ca-ties', run, 'plan.json');
    const marker = JSON.parse(await readFile(markerFile, 'utf8')) as ModelDoneMarker;
    expect(marker.merger).toEqual({ id: 'ties', options: { density: 0.5 } });
    const folder = join(out, 'models', 'ca-ties', run);
    const plan = marker.plan.map((p) => ({ path: resolve(folder, p.path), weight: p.weight }));
    expect(plan.length).toBeGreaterThan(1);
    const direct = join(dir, 'direct-ties');
    await mergeCheckpoints(plan, direct, { method: 'ties', params: { density: 0.5 }, base: join(dir, 'tiny-random-bert') });
    const [fromRun, fromApi, plain] = await Promise.all([tensors(join(folder, marker.model)), tensors(direct), tensors(join(out, 'models', 'checkpoint-average', run, 'model'))]);
    expect([...fromRun.keys()].sort()).toEqual([...fromApi.keys()].sort());
    let differsFromMean = false;
    for (const [name, values] of fromRun) {
      expect(values, name).toEqual(fromApi.get(name));
      if (plain.get(name)!.some((v, i) => v !== values[i])) differsFromMean = true;
    }
    // TIES at density 0.5 is not the mean: the merger really was used.
    expect(differsFromMean).toBe(true);
  });

  it('refuses an unknown merger or bad merger options before training, naming the config path', async () => {
    const config = await writeQuickstart({
      out: join(dir, 'bad'),
      trainSentences: 40,
      evalSentences: 20,
      overrides: { strategies: [{ id: 'checkpoint-average', merger: { id: 'ties', options: { density: 1.5 } } }, { id: 'last', merger: 'no-such-merger' }] },
    });
    const bad = await xlt(['run', config, '--out', join(dir, 'bad', 'out')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/strategies\[0\]\.merger\.options\.density/);
    expect(bad.stderr).toMatch(/strategies\[1\]\.merger: expected a known checkpoint merger \(.*ties.*\), found "no-such-merger"/);
  });
});
