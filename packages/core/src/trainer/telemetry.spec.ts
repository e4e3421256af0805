import { appendFile, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tempDir } from '@xlt/plugin-api/testing';
import { bertProvider } from '../encoders/bert-provider.js';
import { crc32c } from '../telemetry/crc32c.js';
import { readMetricsLog } from '../telemetry/metrics-log.js';
import { learningRateAt } from './schedule.js';
import { train } from './train.js';
import { resolveTrainingOptions, type TrainingOptions } from './training-options.js';
import type { TrainingJob } from './training-job.js';
import { tinyRuntime, toyContext, toyFeatures, toyHead, toyTask, type ToyFeature } from './tiny-training.testing.js';

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir: root, cleanup } = await tempDir('xlt-telemetry-')));
afterAll(() => cleanup());

// 24 features in batches of 4: 6 steps per epoch.
const BASE: TrainingOptions = { learningRate: 1e-3, batchSize: 4, epochs: 2, seed: 3, warmupSteps: 2, schedule: 'cosine', loggingSteps: 5 };

async function job(runDir: string, options: Partial<TrainingOptions> = {}, extra: Partial<TrainingJob<ToyFeature>> = {}): Promise<TrainingJob<ToyFeature>> {
  return {
    runDir: join(root, runDir),
    runtime: await tinyRuntime(1),
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

/** A source-dev evaluator of the toy task: accuracy on 16 held-out features. */
const toyDev: TrainingJob<ToyFeature>['sourceDev'] = async (predictFn) => {
  const dev = toyFeatures(16, 99);
  const logits = await predictFn(dev);
  return { accuracy: (100 * logits.filter((l, i) => Number(l[1]! > l[0]!) === dev[i]!.label).length) / dev.length, examples: dev.length };
};

/** The test's own reading of an event file: TFRecord frames (both CRCs checked) and the Event protobuf. */
interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  values: Record<string, number>;
}

const masked = (crc: number) => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;

function readEventFile(bytes: Uint8Array): DecodedEvent[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: DecodedEvent[] = [];
  let at = 0;
  while (at < bytes.length) {
    const length = Number(view.getBigUint64(at, true));
    expect(view.getUint32(at + 8, true), `length CRC at byte ${at}`).toBe(masked(crc32c(bytes.subarray(at, at + 8))));
    const data = bytes.subarray(at + 12, at + 12 + length);
    expect(data.length, `record at byte ${at} is complete`).toBe(length);
    expect(view.getUint32(at + 12 + length, true), `data CRC at byte ${at}`).toBe(masked(crc32c(data)));
    out.push(decodeEventMessage(data));
    at += 12 + length + 4;
  }
  expect(at).toBe(bytes.length);
  return out;
}

function fields(data: Uint8Array): { field: number; type: number; value: bigint | Uint8Array }[] {
  const out: { field: number; type: number; value: bigint | Uint8Array }[] = [];
  let at = 0;
  const varint = () => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = data[at++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
  };
  while (at < data.length) {
    const key = Number(varint());
    const type = key & 7;
    const size = type === 1 ? 8 : type === 5 ? 4 : type === 2 ? Number(varint()) : 0;
    if (type === 0) out.push({ field: key >> 3, type, value: varint() });
    else {
      out.push({ field: key >> 3, type, value: data.subarray(at, at + size) });
      at += size;
    }
  }
  return out;
}

function decodeEventMessage(data: Uint8Array): DecodedEvent {
  const event: DecodedEvent = { wallTime: NaN, step: NaN, values: {} };
  const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (const f of fields(data)) {
    if (f.field === 1 && f.type === 1) event.wallTime = dv(f.value as Uint8Array).getFloat64(0, true);
    else if (f.field === 2 && f.type === 0) event.step = Number(f.value);
    else if (f.field === 3 && f.type === 2) event.fileVersion = new TextDecoder().decode(f.value as Uint8Array);
    else if (f.field === 5 && f.type === 2) {
      for (const v of fields(f.value as Uint8Array)) {
        const parts = fields(v.value as Uint8Array);
        const tag = new TextDecoder().decode(parts.find((p) => p.field === 1)!.value as Uint8Array);
        event.values[tag] = dv(parts.find((p) => p.field === 2 && p.type === 5)!.value as Uint8Array).getFloat32(0, true);
      }
    } else throw new Error(`unexpected field ${f.field} (wire type ${f.type}) in an Event`);
  }
  return event;
}

async function eventFiles(runDir: string): Promise<string[]> {
  const names = (await readdir(join(runDir, 'tensorboard'))).sort();
  for (const name of names) expect(name).toMatch(/^events\.out\.tfevents\.\d{10}\.[^/]+$/);
  return names.map((n) => join(runDir, 'tensorboard', n));
}

describe('metrics.jsonl and TensorBoard events of a training run', () => {
  test('a short run logs every loggingSteps steps and each checkpoint, in both files', async () => {
    const j = await job('logged', {}, { sourceDev: toyDev, sourceDevMetric: 'accuracy' });
    const encoderSize = [...j.runtime.parameters().values()].reduce((n, t) => n + t.data.length, 0);
    const started = Date.now() / 1000;
    const result = await train(j);
    expect(result.totalSteps).toBe(12);
    const options = resolveTrainingOptions(j.options);
    const records = await readMetricsLog(join(j.runDir, 'metrics.jsonl'));
    const steps = records.map((r) => r.step);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    const trainRecords = records.filter((r) => r.type === 'train') as unknown as Record<string, number & Record<string, number>>[];
    expect(trainRecords.map((r) => r.step)).toEqual([5, 10, 12]);
    for (const r of trainRecords) {
      expect(Number.isFinite(r.loss) && r.loss > 0, `loss ${r.loss}`).toBe(true);
      expect(r.learning_rate).toBe(learningRateAt(r.step - 1, 12, options));
      expect(r.grad_norm).toBeGreaterThan(0);
      expect(r.tokens_per_second).toBeGreaterThan(0);
      expect(r.epoch).toBe(r.step / 6);
      expect(r.memory.rss_bytes).toBeGreaterThan(1e6);
      // Parameters, gradients and both AdamW moments of the encoder live in ArrayBuffers on tfjs-cpu.
      expect(r.memory.array_buffers_bytes).toBeGreaterThanOrEqual(4 * 4 * encoderSize);
      expect(r.memory.heap_used_bytes).toBeGreaterThan(0);
      expect(Number.isInteger(r.memory.tfjs_bytes) && r.memory.tfjs_bytes >= 0).toBe(true);
      expect(r.wall_time).toBeGreaterThanOrEqual(Math.floor(started));
    }
    // The learning rate follows the cosine: warm-up to the peak at step 3, then down.
    expect(trainRecords[0]!.learning_rate).toBeGreaterThan(trainRecords[1]!.learning_rate);
    const checkpoints = records.filter((r) => r.type === 'checkpoint');
    expect(checkpoints.map((r) => [r.step, r.checkpoint])).toEqual([[6, 'checkpoint-6'], [12, 'checkpoint-12']]);
    expect(checkpoints.map((r) => r.source_dev)).toEqual(result.checkpoints.map((c) => c.sourceDev));

    const [file, ...more] = await eventFiles(j.runDir);
    expect(more).toEqual([]);
    const events = readEventFile(new Uint8Array(await readFile(file!)));
    expect(events[0]).toMatchObject({ step: 0, fileVersion: 'brain.Event:2', values: {} });
    for (const e of events) expect(e.wallTime).toBeGreaterThanOrEqual(Math.floor(started));
    const scalars = events.slice(1);
    expect(scalars.map((e) => e.step)).toEqual([5, 6, 10, 12, 12]);
    for (const r of trainRecords) {
      const e = scalars.find((x) => x.step === r.step && 'train/loss' in x.values)!;
      expect(e.values).toEqual({
        'train/loss': Math.fround(r.loss),
        'train/learning_rate': Math.fround(r.learning_rate),
        'train/grad_norm': Math.fround(r.grad_norm),
        'train/tokens_per_second': Math.fround(r.tokens_per_second),
        'train/epoch': Math.fround(r.epoch),
      });
    }
    for (const c of result.checkpoints) {
      const e = scalars.find((x) => x.step === c.step && 'eval/source_dev' in x.values)!;
      expect(e.values['eval/source_dev']).toBe(Math.fround(c.sourceDev!.accuracy!));
      expect(e.values['eval/source_dev/accuracy']).toBe(Math.fround(c.sourceDev!.accuracy!));
      expect(e.values['eval/source_dev/examples']).toBe(16);
    }
  }, 120_000);

  test('a run that crashes and resumes logs each step once, with the values of an uninterrupted run', async () => {
    const options = { loggingSteps: 2, checkpointEverySteps: 4 };
    await train(await job('whole', options));
    await expect(train(await job('crash', options, { onStep: (step) => { if (step === 11) throw new Error('simulated crash'); } }))).rejects.toThrow('simulated crash');
    const crash = join(root, 'crash');
    // Logged before the crash: steps 2..10, of which 10 comes after the newest checkpoint (8).
    expect((await readMetricsLog(join(crash, 'metrics.jsonl'))).filter((r) => r.type === 'train').map((r) => r.step)).toEqual([2, 4, 6, 8, 10]);
    // And a record cut short by the crash.
    await appendFile(join(crash, 'metrics.jsonl'), '{"type":"train","step":12,"lo');
    const resumed = await train(await job('crash', { ...options, resume: true }));
    expect(resumed.resumedFrom).toBe(8);

    const text = await readFile(join(crash, 'metrics.jsonl'), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const after = await readMetricsLog(join(crash, 'metrics.jsonl'));
    const reference = await readMetricsLog(join(root, 'whole', 'metrics.jsonl'));
    const key = (r: Record<string, unknown>) => `${r.type}@${r.step}`;
    expect(after.map(key)).toEqual(reference.map(key));
    expect(new Set(after.map(key)).size).toBe(after.length);
    // Deterministic backend: the same losses, rates and norms as the run that never stopped.
    const numbers = (rs: typeof after) => rs.filter((r) => r.type === 'train').map((r) => [r.loss, r.learning_rate, r.grad_norm]);
    expect(numbers(after)).toEqual(numbers(reference));

    // Two sessions, two event files; together each step once, the first trimmed to the checkpoint it resumed from.
    const files = await eventFiles(crash);
    expect(files).toHaveLength(2);
    const [first, second] = await Promise.all(files.map(async (f) => readEventFile(new Uint8Array(await readFile(f))).slice(1)));
    expect(first!.map((e) => e.step)).toEqual([2, 4, 4, 6, 8, 8]);
    expect(second!.map((e) => e.step)).toEqual([10, 12, 12]);
    const whole = readEventFile(new Uint8Array(await readFile((await eventFiles(join(root, 'whole')))[0]!))).slice(1);
    // Speed is measured, not computed: everything else agrees.
    const comparable = (e: DecodedEvent) => [e.step, Object.entries(e.values).filter(([tag]) => tag !== 'train/tokens_per_second')];
    expect([...first!, ...second!].map(comparable)).toEqual(whole.map(comparable));
  }, 120_000);

  test('early stopping ends a run once source dev stopped improving for `patience` checkpoints, and stays stopped', async () => {
    const scores: Record<number, number> = { 2: 50, 4: 60, 6: 60, 8: 59, 10: 70 };
    const sourceDev: TrainingJob<ToyFeature>['sourceDev'] = async (_predict, at) => ({ accuracy: scores[at.step] ?? 99, f1: 1 });
    const options = { checkpointEverySteps: 2, loggingSteps: 2, earlyStoppingPatience: 2 };
    const lines: string[] = [];
    const result = await train(await job('early', options, { sourceDev, sourceDevMetric: 'accuracy', log: (l) => lines.push(l) }));
    expect(result.stoppedEarlyAt).toBe(8);
    expect(result.checkpoints.map((c) => c.step)).toEqual([2, 4, 6, 8]);
    expect(lines.some((l) => l.includes('early stopping at step 8 of 12 (source-dev accuracy best 60 at step 4'))).toBe(true);
    const records = await readMetricsLog(join(root, 'early', 'metrics.jsonl'));
    expect(records.at(-1)).toMatchObject({ type: 'early_stopping', step: 8, metric: 'accuracy', best: 60, best_step: 4, patience: 2 });
    const before = await readFile(join(root, 'early', 'metrics.jsonl'), 'utf8');

    // Resuming a stopped run does not train it further.
    const again = await train(await job('early', { ...options, resume: true }, { sourceDev, sourceDevMetric: 'accuracy' }));
    expect(again.stoppedEarlyAt).toBe(8);
    expect(again.checkpoints.map((c) => c.step)).toEqual([2, 4, 6, 8]);
    expect(await readFile(join(root, 'early', 'metrics.jsonl'), 'utf8')).toBe(before);

    // With a threshold of 15 only the jump to 70 would count, and that comes after two evaluations without one.
    const strict = await train(await job('early-threshold', { ...options, earlyStoppingThreshold: 15, earlyStoppingPatience: 3 }, { sourceDev, sourceDevMetric: 'accuracy' }));
    expect(strict.stoppedEarlyAt).toBe(8);
    // Without stopping, the run goes to the end.
    const patient = await train(await job('early-patient', { ...options, earlyStoppingPatience: 5 }, { sourceDev, sourceDevMetric: 'accuracy' }));
    expect(patient.stoppedEarlyAt).toBeUndefined();
    expect(patient.checkpoints.at(-1)!.step).toBe(12);
  }, 120_000);

  test('early stopping on a metric the evaluator does not return is an error naming the metrics it has', async () => {
    const sourceDev: TrainingJob<ToyFeature>['sourceDev'] = async () => ({ accuracy: 1 });
    await expect(train(await job('early-bad-metric', { checkpointEverySteps: 2, earlyStoppingPatience: 1 }, { sourceDev, sourceDevMetric: 'f1' }))).rejects.toThrow(
      /Early stopping watches the source-dev metric "f1", but the evaluation of .*checkpoint-2 \(step 2\) gave \{"accuracy":1\}: expected a finite number for it\. Set earlyStoppingMetric to one of: accuracy/,
    );
  });

  test('the new settings are validated with the value found', async () => {
    await expect(
      train(await job('bad-settings', { loggingSteps: 0, beta1: 1, beta2: -0.1, epsilon: 0, schedule: 'polynomial', polynomialPower: 0, earlyStoppingPatience: 2 })),
    ).rejects.toThrow(
      /loggingSteps must be a whole number >= 1, found 0\n.*polynomialPower must be > 0, found 0\n.*beta1 must be in \[0, 1\), found 1\n.*beta2 must be in \[0, 1\), found -0\.1\n.*epsilon must be > 0, found 0\n.*earlyStoppingPatience is set, but the job has no source-dev evaluator/s,
    );
    await expect(train(await job('bad-schedule', { schedule: 'step' as never }))).rejects.toThrow('schedule must be one of linear, cosine, polynomial, constant, found "step"');
    await expect(train(await job('bad-end', { schedule: 'polynomial', learningRate: 1e-8 }))).rejects.toThrow('polynomialEndLearningRate must be >= 0 and below learningRate (1e-8), found 1e-7');
  });
});

describe('progress', () => {
  test('on a terminal one line is redrawn in place at every step and ended at the end', async () => {
    let text = '';
    await train(await job('tty', { epochs: 1 }, { progress: { tty: true, write: (t) => (text += t), prefix: '[xlt] ' } }));
    const redraws = text.split('\r\x1b[K').slice(1);
    expect(redraws).toHaveLength(6);
    expect(text.endsWith('\n')).toBe(true);
    redraws.forEach((r, i) => expect(r).toMatch(new RegExp(`^\\[xlt\\] step ${i + 1}/6 epoch \\d\\.\\d\\d loss \\d+\\.\\d{4} lr \\d\\.\\d\\de[-+]\\d+ \\d+ tok/s ETA \\S+${i === 5 ? '\\n' : ''}$`)));
  }, 60_000);

  test('elsewhere a plain line every loggingSteps steps and at the last', async () => {
    let text = '';
    await train(await job('plain', { epochs: 1, loggingSteps: 4 }, { progress: { tty: false, write: (t) => (text += t) } }));
    expect(text.split('\n').filter(Boolean).map((l) => /^step (\d+)\/6 /.exec(l)?.[1])).toEqual(['4', '6']);
  }, 60_000);
});
