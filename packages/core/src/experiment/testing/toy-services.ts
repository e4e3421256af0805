import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type CheckpointInfo, writeFileAtomic, seededRandom, shuffled } from '@xlt/plugin-api';
import type { ExperimentServices, RunTrainingJob } from '../services.js';
import type { ToyExample } from './toy-task.js';

/**
 * The toy "model": an "encoder" that scales and shifts each feature (identity when absent) and a "head", a weight
 * matrix `[labels][features + 1]` (the last column is the bias) over the encoded features.
 */
interface ToyModel {
  readonly labels: readonly string[];
  readonly weights: number[][];
  readonly encoder?: { readonly scale: number[]; readonly shift: number[] };
}

async function readModel(folder: string): Promise<ToyModel | undefined> {
  const file = join(folder, 'model.json');
  return existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as ToyModel) : undefined;
}
const writeModel = (folder: string, model: ToyModel) => writeFileAtomic(join(folder, 'model.json'), JSON.stringify(model));

const encode = (model: ToyModel, x: readonly number[]) => (model.encoder ? x.map((v, i) => v * model.encoder!.scale[i]! + model.encoder!.shift[i]!) : x);

function scores(model: ToyModel, x: readonly number[]): number[] {
  const h = encode(model, x);
  return model.weights.map((w) => h.reduce((s, v, i) => s + v * w[i]!, w[h.length]!));
}

/**
 * One SGD step of softmax regression on a batch: the head's weights (unless `frozenHead`) and the encoder's scale
 * and shift (when the model has an encoder and `frozenEncoder` is not set).
 */
function sgdStep(model: ToyModel, batch: readonly ToyExample[], lr: number, frozen: { head?: boolean; encoder?: boolean }): void {
  const dims = batch[0]!.features.length;
  const grad = model.weights.map((w) => w.map(() => 0));
  const gScale = new Array<number>(dims).fill(0);
  const gShift = new Array<number>(dims).fill(0);
  for (const ex of batch) {
    const h = encode(model, ex.features);
    const s = scores(model, ex.features);
    const max = Math.max(...s);
    const e = s.map((v) => Math.exp(v - max));
    const z = e.reduce((a, b) => a + b, 0);
    e.forEach((p, k) => {
      const g = p / z - (model.labels[k] === ex.label ? 1 : 0);
      h.forEach((x, i) => {
        grad[k]![i]! += (g * x) / batch.length;
        gScale[i]! += (g * model.weights[k]![i]! * ex.features[i]!) / batch.length;
        gShift[i]! += (g * model.weights[k]![i]!) / batch.length;
      });
      grad[k]![dims]! += g / batch.length;
    });
  }
  if (!frozen.head) model.weights.forEach((w, k) => w.forEach((_, i) => (w[i]! -= lr * grad[k]![i]!)));
  if (model.encoder && !frozen.encoder) {
    model.encoder.scale.forEach((_, i) => (model.encoder!.scale[i]! -= lr * gScale[i]!));
    model.encoder.shift.forEach((_, i) => (model.encoder!.shift[i]! -= lr * gShift[i]!));
  }
}

/** Counts of what the toy services did, so tests can check what a re-run skipped. */
export interface ToyCalls {
  trainedSteps: number;
  merges: number;
  predictions: number;
}

/** Options of {@link toyServices}. */
export interface ToyServicesOptions {
  readonly stepDelayMs?: number;
  readonly calls?: ToyCalls;
  /** Called with every training job, so tests can check what each run trained on and started from. */
  readonly onTrain?: (job: RunTrainingJob) => void;
  /** Counts model folders read for prediction (a retained model is read once). */
  readonly modelLoads?: { count: number };
}

/**
 * Fake experiment services over {@link toyTask}: softmax regression over a scale-and-shift "encoder", trained by
 * SGD in the shape of the real trainer (checkpoints `<runDir>/checkpoint-<step>/`, resume from the newest one,
 * deterministic for a seed, a frozen shared head from {@link ExperimentServices.trainHead}), weighted averaging of
 * every parameter, and argmax prediction. `stepDelayMs` slows training down so
 * a test can interrupt it.
 */
export function toyServices(options: ToyServicesOptions = {}): ExperimentServices {
  const calls = options.calls ?? { trainedSteps: 0, merges: 0, predictions: 0 };
  // Models kept in memory by `retain`, as the engine's services keep a loaded encoder.
  const retained = new Map<string, { holders: number; model?: ToyModel }>();
  const loadForPrediction = async (folder: string) => {
    const held = retained.get(resolve(folder));
    if (held?.model) return held.model;
    if (options.modelLoads) options.modelLoads.count++;
    const model = await readModel(folder);
    if (held && model) held.model = model;
    return model;
  };
  return {
    async resolveModel(model, baseDir) {
      return resolve(baseDir, model);
    },
    async train(job: RunTrainingJob) {
      options.onTrain?.(job);
      const train = job.train as readonly ToyExample[];
      const { batchSize, epochs, learningRate, seed, schedule, warmup } = job.hyperparameters;
      const perEpoch = Math.ceil(train.length / batchSize);
      const total = Math.ceil(perEpoch * epochs);
      const every = job.checkpoints.everySteps ?? Math.max(1, Math.floor(perEpoch / job.checkpoints.perEpoch));
      const dims = train[0]!.features.length;
      await mkdir(job.runDir, { recursive: true });
      const saved = (await readdir(job.runDir)).map((d) => /^checkpoint-(\d+)$/.exec(d)).filter((m) => m !== null).map((m) => Number(m![1])).sort((a, b) => a - b);
      let step = saved.at(-1) ?? 0;
      const start: ToyModel = (step > 0 ? await readModel(join(job.runDir, `checkpoint-${step}`)) : undefined) ??
        (await readModel(job.model)) ?? { labels: job.labels, weights: job.labels.map(() => new Array<number>(dims + 1).fill(0)) };
      const shared = step === 0 && job.head ? (JSON.parse(await readFile(job.head.file, 'utf8')) as ToyModel) : undefined;
      const model: ToyModel = {
        labels: job.labels,
        weights: (shared ?? start).weights.map((w) => [...w]),
        encoder: { scale: [...(start.encoder?.scale ?? new Array<number>(dims).fill(1))], shift: [...(start.encoder?.shift ?? new Array<number>(dims).fill(0))] },
      };
      while (step < total) {
        const epoch = Math.floor(step / perEpoch);
        const order = shuffled(train, seededRandom(seed * 1000 + epoch));
        const batch = order.slice((step % perEpoch) * batchSize, (step % perEpoch + 1) * batchSize);
        const warm = Math.max(1, Math.round(warmup * total));
        const lr = learningRate * (step < warm ? (step + 1) / warm : schedule === 'linear' ? (total - step) / Math.max(1, total - warm) : 1);
        sgdStep(model, batch, lr, { head: job.head?.frozen });
        step++;
        calls.trainedSteps++;
        if (options.stepDelayMs) await new Promise((r) => setTimeout(r, options.stepDelayMs));
        if (step % every === 0 || step === total) await writeModel(join(job.runDir, `checkpoint-${step}`), model);
        job.onStep?.(step, total);
      }
      const steps = (await readdir(job.runDir)).map((d) => /^checkpoint-(\d+)$/.exec(d)).filter((m) => m !== null).map((m) => Number(m![1])).sort((a, b) => a - b);
      return steps.map((s): CheckpointInfo => ({ path: join(job.runDir, `checkpoint-${s}`), run: job.runId, step: s, epoch: s / perEpoch, totalSteps: total }));
    },
    async trainHead(job) {
      const train = job.train as readonly ToyExample[];
      const dims = train[0]!.features.length;
      const perEpoch = Math.ceil(train.length / job.batchSize);
      const total = perEpoch * job.epochs;
      const model: ToyModel = { labels: job.labels, weights: job.labels.map(() => new Array<number>(dims + 1).fill(0)) };
      for (let step = 0; step < total; step++) {
        const order = shuffled(train, seededRandom(job.seed * 1000 + Math.floor(step / perEpoch) + 7));
        const batch = order.slice((step % perEpoch) * job.batchSize, (step % perEpoch + 1) * job.batchSize);
        sgdStep(model, batch, job.learningRate * (total - step) / total, { encoder: true });
        calls.trainedSteps++;
        if (options.stepDelayMs) await new Promise((r) => setTimeout(r, options.stepDelayMs));
        job.onStep?.(step + 1, total);
      }
      const file = join(job.headDir, 'toy-head.json');
      await mkdir(job.headDir, { recursive: true });
      await writeFileAtomic(file, JSON.stringify(model));
      return { file, steps: total };
    },
    async backendInfo(backend) {
      return { id: `toy (${backend})`, detail: 'toy softmax regression in JavaScript', threads: 1 };
    },
    async merge(plan, outDir) {
      calls.merges++;
      const models = await Promise.all(plan.map(async (p) => (await readModel(p.checkpoint.path))!));
      const mean = (of: (m: ToyModel) => number) => plan.reduce((s, p, j) => s + p.weight * of(models[j]!), 0);
      const weights = models[0]!.weights.map((row, k) => row.map((_, i) => mean((m) => m.weights[k]![i]!)));
      const first = models[0]!.encoder;
      const encoder = first && { scale: first.scale.map((_, i) => mean((m) => m.encoder!.scale[i]!)), shift: first.shift.map((_, i) => mean((m) => m.encoder!.shift[i]!)) };
      await mkdir(outDir, { recursive: true });
      await writeModel(outDir, { labels: models[0]!.labels, weights, ...(encoder ? { encoder } : {}) });
    },
    async predict(job) {
      calls.predictions++;
      const model = await loadForPrediction(job.model);
      if (!model) throw new Error(`no toy model in ${job.model}`);
      return (job.examples as readonly ToyExample[]).map((ex) => {
        const s = scores(model, ex.features);
        return model.labels[s.indexOf(Math.max(...s))]!;
      });
    },
    async retain(model) {
      const key = resolve(model);
      const entry = retained.get(key) ?? { holders: 0 };
      entry.holders++;
      retained.set(key, entry);
      return () => {
        if (--entry.holders === 0) retained.delete(key);
      };
    },
  };
}
