import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Container } from 'inversify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Trainer, SafetensorsFile } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { bertProvider } from '../encoders/bert-provider.js';
import { checkpointSteps, loadHeadParameters, train } from './train.js';
import { learningRateAt } from './schedule.js';
import { resolveTrainingOptions, type TrainingOptions } from './training-options.js';
import { predict } from './predict.js';
import { trainerModule } from './trainer-module.js';
import { ProgressReporter, lineOutput } from './progress.js';
import { formatDuration } from '../util/duration.js';
import type { TrainingJob } from './training-job.js';
import { tinyRuntime, toyContext, toyFeatures, toyHead, toyTask, type ToyFeature } from './tiny-training.testing.js';

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir: root, cleanup } = await tempDir('xlt-trainer-')));
afterAll(() => cleanup());

const BASE: TrainingOptions = { learningRate: 1e-3, batchSize: 4, epochs: 2, seed: 3, warmupRatio: 0.1, checkpointsPerEpoch: 1 };

async function job(runDir: string, options: Partial<TrainingOptions> = {}, extra: Partial<TrainingJob<ToyFeature>> = {}): Promise<TrainingJob<ToyFeature>> {
  const runtime = await tinyRuntime(1, extra.head ? 0 : 0.1);
  return {
    runDir: join(root, runDir),
    runtime,
    provider: bertProvider,
    task: toyTask,
    head: toyHead(16),
    context: toyContext,
    features: toyFeatures(24),
    options: { ...BASE, ...options },
    log: () => {},
    ...extra,
  };
}

async function weights(folder: string): Promise<Map<string, Float32Array>> {
  const file = await SafetensorsFile.open(join(folder, 'model.safetensors'));
  const out = new Map<string, Float32Array>();
  for (const name of file.tensors.keys()) out.set(name, await file.readFloat32(name));
  await file.close();
  return out;
}

describe('learning-rate schedule and checkpoint steps', () => {
  test('linear warm-up then linear decay to 0, or constant, as HF', () => {
    const o = resolveTrainingOptions({ ...BASE, learningRate: 1, warmupSteps: 4 });
    expect([0, 1, 2, 4, 6, 10].map((s) => learningRateAt(s, 12, o))).toEqual([0, 0.25, 0.5, 1, 0.75, 0.25]);
    const ratio = resolveTrainingOptions({ ...BASE, learningRate: 1, warmupRatio: 0.25 });
    expect(learningRateAt(1, 10, ratio)).toBeCloseTo(1 / 3);
    const constant = resolveTrainingOptions({ ...BASE, learningRate: 2, warmupSteps: 2, schedule: 'constant' });
    expect([0, 1, 2, 9].map((s) => learningRateAt(s, 10, constant))).toEqual([0, 1, 2, 2]);
  });

  test('checkpoints every N steps, K per epoch, and always at the last step', () => {
    const o = (x: Partial<TrainingOptions>) => resolveTrainingOptions({ ...BASE, checkpointsPerEpoch: undefined, ...x });
    expect([...checkpointSteps(o({}), 5, 10)].sort((a, b) => a - b)).toEqual([5, 10]);
    expect([...checkpointSteps(o({ checkpointEverySteps: 3 }), 5, 10)].sort((a, b) => a - b)).toEqual([3, 6, 9, 10]);
    expect([...checkpointSteps(o({ checkpointsPerEpoch: 2 }), 5, 10)].sort((a, b) => a - b)).toEqual([3, 5, 8, 10]);
  });
});

describe('train', () => {
  test('learns the toy task and writes HF checkpoint folders with metadata and source-dev metrics', async () => {
    const dev = toyFeatures(16, 99);
    const j = await job('learn', { epochs: 6, learningRate: 3e-3, checkpointsPerEpoch: 1 }, {
      sourceDev: async (predictFn, at) => {
        const logits = await predictFn(dev);
        const correct = logits.filter((l, i) => Number(l[1]! > l[0]!) === dev[i]!.label).length;
        expect(at.step).toBeGreaterThan(0);
        return { accuracy: (100 * correct) / dev.length };
      },
    });
    const result = await train(j);
    expect(result.totalSteps).toBe(36);
    expect(result.checkpoints.map((c) => c.step)).toEqual([6, 12, 18, 24, 30, 36]);
    const last = result.checkpoints.at(-1)!;
    expect(last.epoch).toBe(6);
    const file = await SafetensorsFile.open(join(last.path, 'model.safetensors'));
    const meta = file.metadata;
    expect(meta.format).toBe('pt');
    expect(meta.step).toBe('36');
    expect(meta.epoch).toBe('6');
    expect(Number(meta.learning_rate)).toBeGreaterThan(0);
    expect(Number(meta.learning_rate)).toBeLessThan(3e-3 / 30);
    expect(Number(meta.source_dev_accuracy)).toBe(last.sourceDev!.accuracy);
    expect(file.tensors.has('bert.encoder.layer.0.attention.self.query.weight')).toBe(true);
    expect(file.tensors.has('classifier.weight')).toBe(true);
    await file.close();
    const losses = await Promise.all(result.checkpoints.map(async (c) => {
      const f = await SafetensorsFile.open(join(c.path, 'model.safetensors'));
      await f.close();
      return Number(f.metadata.train_loss);
    }));
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.7);
    expect(last.sourceDev!.accuracy).toBeGreaterThanOrEqual(75);
    const config = JSON.parse(await readFile(join(last.path, 'config.json'), 'utf8'));
    expect(config.model_type).toBe('bert');
    expect(config.id2label).toEqual({ 0: 'no', 1: 'yes' });
    // Only the newest checkpoint keeps the optimizer state.
    expect(result.checkpoints.map((c) => existsSync(join(c.path, 'trainer_state.safetensors')))).toEqual([false, false, false, false, false, true]);
  });

  test('the same seed repeats a run bit for bit; another seed gives other weights', async () => {
    const a = await train(await job('seed-a'));
    const b = await train(await job('seed-b'));
    const c = await train(await job('seed-c', { seed: 4 }));
    const [wa, wb, wc] = await Promise.all([a, b, c].map((r) => weights(r.checkpoints.at(-1)!.path)));
    expect(wb).toEqual(wa);
    expect(wc.get('classifier.weight')).not.toEqual(wa.get('classifier.weight'));
  });

  test('a run that crashes at step 5 and resumes ends with the weights of an uninterrupted run', async () => {
    const options = { checkpointEverySteps: 2, checkpointsPerEpoch: undefined, gradientAccumulationSteps: 2, batchSize: 3 };
    const whole = await train(await job('whole', options));
    await expect(
      train(await job('crash', options, { onStep: (step) => { if (step === 5) throw new Error('simulated crash'); } })),
    ).rejects.toThrow('simulated crash');
    const resumed = await train(await job('crash', { ...options, resume: true }));
    expect(resumed.resumedFrom).toBe(4);
    expect(resumed.checkpoints.map((c) => c.step)).toEqual(whole.checkpoints.map((c) => c.step));
    expect(await weights(resumed.checkpoints.at(-1)!.path)).toEqual(await weights(whole.checkpoints.at(-1)!.path));
    // Resuming with other hyperparameters is refused, naming the state file.
    await expect(train(await job('crash', { ...options, resume: true, learningRate: 5e-4 }))).rejects.toThrow(
      /trainer_state.safetensors: cannot resume: the run was started with other settings/,
    );
  });

  test('freezeHead keeps the given head fixed while the encoder trains', async () => {
    const first = await train(await job('donor', { epochs: 1 }));
    const head = toyHead(16);
    const initialHead = await loadHeadParameters(first.checkpoints.at(-1)!.path, head.parameters);
    const frozen = await train(await job('frozen', { epochs: 1, freezeHead: true }, { initialHead }));
    const w = await weights(frozen.checkpoints.at(-1)!.path);
    expect(w.get('classifier.weight')).toEqual(initialHead['classifier.weight']);
    expect(w.get('classifier.bias')).toEqual(initialHead['classifier.bias']);
    const donor = await weights(first.checkpoints.at(-1)!.path);
    expect(w.get('bert.encoder.layer.0.output.dense.weight')).not.toEqual(donor.get('bert.encoder.layer.0.output.dense.weight'));
  });

  test('gradient accumulation of 2 x 2 matches batches of 4 without dropout', async () => {
    const opts = { epochs: 1, batchSize: 4, maxGradNorm: 0 };
    const noDropout = { head: toyHead(16, 0) };
    const big = await train(await job('acc-big', opts, noDropout));
    const small = await train(await job('acc-small', { ...opts, batchSize: 2, gradientAccumulationSteps: 2 }, noDropout));
    expect(small.totalSteps).toBe(big.totalSteps);
    const [wb, ws] = await Promise.all([weights(big.checkpoints.at(-1)!.path), weights(small.checkpoints.at(-1)!.path)]);
    let maxDiff = 0;
    for (const [name, a] of wb) a.forEach((x, i) => (maxDiff = Math.max(maxDiff, Math.abs(x - ws.get(name)![i]!))));
    expect(maxDiff).toBeLessThan(1e-5);
    // Not trivially equal: the runs did train.
    const start = (await tinyRuntime(1, 0)).parameters().get('bert.encoder.layer.0.output.dense.weight')!.data;
    expect(ws.get('bert.encoder.layer.0.output.dense.weight')).not.toEqual(start);
  });

  test('a non-finite gradient norm stops training before the update, naming the step and the run', async () => {
    const j = await job('nan-gradient', { epochs: 1 });
    const runtime = j.runtime;
    let calls = 0;
    // From the 3rd step on the encoder reports an infinite gradient (what an overflow in backward gives).
    const poisoned = new Proxy(runtime, {
      get(target, key) {
        if (key === 'gradientSquaredNorm') return () => (++calls >= 3 ? Number.POSITIVE_INFINITY : target.gradientSquaredNorm());
        const value = Reflect.get(target, key, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await expect(train({ ...j, runtime: poisoned })).rejects.toThrow(`Training diverged: the gradient norm is Infinity at step 3 of ${join(root, 'nan-gradient')}`);
  });

  test('invalid settings are reported all at once', async () => {
    await expect(train(await job('bad', { batchSize: 0, epochs: 1.5, learningRate: -1 }))).rejects.toThrow(
      /batchSize must be a whole number >= 1, found 0\n.*epochs must be a whole number >= 1, found 1.5\n.*learningRate must be > 0/s,
    );
  });

  test('progress lines report loss, learning rate, tokens/s and ETA', async () => {
    const lines: string[] = [];
    await train(await job('progress', { epochs: 1 }, { log: (l) => lines.push(l) }));
    expect(lines.at(-1)).toMatch(/^step 6\/6 epoch 1\.00 loss \d+\.\d{4} lr \d\.\d\de-\d+ \d+ tok\/s ETA 0s$/);
    let now = 0;
    const out: string[] = [];
    const reporter = new ProgressReporter(lineOutput((l) => out.push(l)), { everySteps: 10, everySeconds: 10 }, 0, () => now);
    reporter.addTokens(5000);
    now = 5000;
    // Not a logging step, and 5 s since the start: no line yet.
    expect(reporter.due(1, 100)).toBe(false);
    expect(reporter.due(10, 100)).toBe(true);
    reporter.update({ step: 10, totalSteps: 100, epoch: 0.1, loss: 0.5, learningRate: 1e-5 });
    now = 9000;
    expect(reporter.due(11, 100)).toBe(false);
    now = 15_000;
    expect(reporter.due(11, 100)).toBe(true);
    expect(reporter.due(100, 100)).toBe(true);
    expect(out).toEqual(['step 10/100 epoch 0.10 loss 0.5000 lr 1.00e-5 1000 tok/s ETA 45s']);
    expect(formatDuration(3725)).toBe('1h02m');
  });
});

describe('predict and binding', () => {
  test('predict returns each feature its own logits in input order, whatever the batching', async () => {
    const runtime = await tinyRuntime(1, 0);
    const head = toyHead(16, 0);
    const params = head.init(() => 0.3);
    const features = toyFeatures(7, 5);
    const batched = await predict(runtime, head, params, features, 3, bertProvider);
    const single = await Promise.all(features.map(async (f) => (await predict(runtime, head, params, [f], 1, bertProvider))[0]!));
    expect(batched).toHaveLength(7);
    batched.forEach((l, i) => {
      expect(l).toHaveLength(2);
      l.forEach((x, k) => expect(x).toBeCloseTo(single[i]![k]!, 5));
    });
    // Per-token heads are cut to each feature's length.
    const tokenHead = { ...head, forward: (tf: any, h: any) => tf.slice(h, [0, 0, 0], [-1, -1, 3]) } as typeof head;
    const perToken = await predict(runtime, tokenHead, params, features, 4, bertProvider);
    perToken.forEach((l, i) => expect(l).toHaveLength(features[i]!.inputIds.length * 3));
  });

  test('trainerModule binds the default trainer', async () => {
    const container = new Container();
    await container.load(trainerModule);
    const [trainer] = container.getAll<Trainer>(Trainer);
    expect(trainer!.id).toBe('default');
  });
});
