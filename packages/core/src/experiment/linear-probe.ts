import { adamwUpdate } from '../backends/host-adamw.js';
import { loadTf } from '../backends/tfjs-loader.js';
import { isNoDecayParameter } from '../encoders/parameter-shapes.js';
import { XltError, type AdamWStep, type Feature, seededRandom, shuffled } from '@xlt/plugin-api';
import { padBatch } from '../trainer/batches.js';
import { headLossAndGradients, type HeadParameters } from '../trainer/head-pass.js';
import { learningRateAt } from '../trainer/schedule.js';
import { clipGradients } from '../trainer/train.js';
import { deriveSeed } from '../trainer/seeds.js';
import type { TrainingJob } from '../trainer/training-job.js';
import { resolveTrainingOptions } from '../trainer/training-options.js';
import { MetricsLog } from '../telemetry/metrics-log.js';

/** Hyperparameters of a linear probe: linear decay from `learningRate` to 0, no warm-up. */
export interface LinearProbeOptions {
  readonly learningRate: number;
  readonly batchSize: number;
  readonly epochs: number;
  readonly seed: number;
  readonly weightDecay: number;
  /** Clip the head's gradients to this global L2 norm (0 or Infinity: no clipping). */
  readonly maxGradNorm: number;
  readonly gradientAccumulationSteps?: number;
}

/**
 * A head to train over a frozen encoder: the trainer's job without run folder or checkpoints. The encoder's forward
 * runs without dropout and its parameters never change; head parameters absent from `initialHead` are drawn from
 * the seed.
 */
export interface LinearProbeJob<F extends Feature> extends Pick<TrainingJob<F>, 'runtime' | 'provider' | 'task' | 'head' | 'context' | 'features' | 'initialHead'> {
  readonly options: LinearProbeOptions;
  readonly onStep?: (step: number, totalSteps: number) => void;
  /**
   * `metrics.jsonl` of the head phase: one record per optimizer step (step, epoch, loss, learning rate, gradient norm
   * before clipping), like a run's. The phase always starts from scratch, so an old log is replaced.
   */
  readonly metricsFile?: string;
}

/**
 * Trains a task head over a frozen encoder (linear probing), the head phase of the shared frozen head protocol.
 * The same batching, loss scaling, AdamW and schedule as the trainer, but the encoder runs forward only, in
 * evaluation mode: no dropout, no gradient, no update. Deterministic for a seed on a deterministic backend.
 */
export async function trainLinearProbe<F extends Feature>(job: LinearProbeJob<F>): Promise<{ head: HeadParameters; steps: number }> {
  const { runtime, head, options } = job;
  const tf = await loadTf();
  const names = Object.keys(head.parameters);
  const accumulation = options.gradientAccumulationSteps ?? 1;
  if (job.features.length === 0) throw new XltError('The head phase has no training features.');
  const microPerEpoch = Math.ceil(job.features.length / options.batchSize);
  const stepsPerEpoch = Math.ceil(microPerEpoch / accumulation);
  const totalSteps = stepsPerEpoch * options.epochs;
  const schedule = resolveTrainingOptions({ learningRate: options.learningRate, batchSize: options.batchSize, epochs: options.epochs, seed: options.seed, schedule: 'linear', warmupRatio: 0 });

  // Parameters the initial head lacks (all of them, or a classifier beside a pretrained pooler) are drawn fresh.
  const start = { ...head.init(seededRandom(deriveSeed(options.seed, 'head-init'))), ...job.initialHead };
  const params: HeadParameters = {};
  for (const [name, shape] of Object.entries(head.parameters)) {
    const size = shape.reduce((a, b) => a * b, 1);
    if (start[name]?.length !== size) throw new XltError(`The initial head of the head phase has ${start[name]?.length ?? 'no'} values for ${name}, expected ${size} (shape [${shape.join(', ')}]).`);
    params[name] = Float32Array.from(start[name]!);
  }
  const zeros = () => Object.fromEntries(names.map((n) => [n, new Float32Array(params[n]!.length)])) as HeadParameters;
  const m = zeros();
  const v = zeros();
  const grads = zeros();
  const noDecay = new Set(names.filter(isNoDecayParameter));

  const metrics = job.metricsFile ? (await MetricsLog.open(job.metricsFile, 0)).log : undefined;
  try {
    let order: number[] = [];
    for (let step = 0; step < totalSteps; step++) {
      if (step % stepsPerEpoch === 0) order = shuffled(job.features.map((_, i) => i), seededRandom(deriveSeed(options.seed, 'order', step / stepsPerEpoch)));
      const first = (step % stepsPerEpoch) * accumulation;
      const last = Math.min(first + accumulation, microPerEpoch);
      for (const g of Object.values(grads)) g.fill(0);
      let loss = 0;
      const scale = 1 / (last - first);
      for (let micro = first; micro < last; micro++) {
        const features = order.slice(micro * options.batchSize, (micro + 1) * options.batchSize).map((i) => job.features[i]!);
        const batch = padBatch(features, runtime.config, job.provider);
        const hidden = await runtime.forward(batch, { training: false });
        const targets = job.task.collate(features, batch.sequenceLength, job.context);
        const shape = [batch.batchSize, batch.sequenceLength, runtime.config.hiddenSize] as const;
        const g = headLossAndGradients(tf, head, params, hidden, shape, targets, { frozen: false, dropoutSeed: deriveSeed(options.seed, 'head-dropout', step, micro) });
        for (const n of names) {
          const into = grads[n]!;
          const add = g.dParams![n]!;
          for (let i = 0; i < into.length; i++) into[i]! += add[i]! * scale;
        }
        loss += g.loss * scale;
      }
      if (!Number.isFinite(loss)) throw new XltError(`The head phase diverged: the loss is ${loss} at step ${step + 1}.`);
      const gradNorm = clipGradients(options.maxGradNorm, FROZEN_ENCODER, Object.values(grads));
      const adam: AdamWStep = { learningRate: learningRateAt(step, totalSteps, schedule), beta1: schedule.beta1, beta2: schedule.beta2, epsilon: schedule.epsilon, weightDecay: options.weightDecay, step: step + 1, noDecay };
      for (const n of names) adamwUpdate(params[n]!, grads[n]!, m[n]!, v[n]!, adam, !noDecay.has(n));
      metrics?.append({ step: step + 1, epoch: (step + 1) / stepsPerEpoch, loss, learning_rate: adam.learningRate, grad_norm: gradNorm });
      job.onStep?.(step + 1, totalSteps);
    }
    metrics?.sync();
  } finally {
    metrics?.close();
  }
  return { head: params, steps: totalSteps };
}

/** The encoder's side of gradient clipping in the head phase: it has no gradients to measure or scale. */
const FROZEN_ENCODER = { gradientSquaredNorm: () => 0, scaleGradients: () => {} };
