import { basename } from 'node:path';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { adamwUpdate } from '../backends/host-adamw.js';
import { loadTf } from '../backends/tfjs-loader.js';
import { isNoDecayParameter } from '../encoders/parameter-shapes.js';
import {
  XltError,
  type CheckpointInfo,
  type AdamWStep,
  type NamedTensors,
  type Feature,
  type Metrics,
  SafetensorsFile,
  SAFETENSORS_FILE,
  seededRandom,
  shuffled,
} from '@xlt/plugin-api';
import { padBatch, realTokens } from './batches.js';
import { TRAINER_STATE_FILE, checkpointFolder, listCheckpoints, removePartialCheckpoints, taskArchitecture, writeCheckpointFolder } from './checkpoint-folder.js';
import { headLossAndGradients, type HeadParameters } from './head-pass.js';
import { predict } from './predict.js';
import { ProgressReporter, lineOutput, type ProgressOutput } from './progress.js';
import { RunTelemetry, memorySnapshot } from './run-telemetry.js';
import { learningRateAt, warmupStepsOf } from './schedule.js';
import { EarlyStopping } from './early-stopping.js';
import { deriveSeed } from './seeds.js';
import { loadResumeState, stateMetadata, stateTensors } from './trainer-state.js';
import type { TrainingJob, TrainingResult } from './training-job.js';
import { LEARNING_RATE_SCHEDULES, resolveTrainingOptions, type ResolvedTrainingOptions } from './training-options.js';

/**
 * Fine-tunes an encoder and a task head (HF `Trainer` semantics): shuffled micro-batches padded to their longest
 * feature, gradient accumulation, clipping by the global norm over encoder and head, AdamW with decoupled weight
 * decay (biases and LayerNorm weights excluded), linear warm-up then a linear, cosine, polynomial or constant
 * schedule. Writes `checkpoint-<step>` folders with a resumable state; with `resume`, continues from the newest
 * complete one and ends with the same weights as an uninterrupted run on a deterministic backend. As it goes it
 * appends to `metrics.jsonl` and a TensorBoard event file in `tensorboard/` of the run folder (every
 * `loggingSteps` steps and at each checkpoint) and shows progress (see {@link TrainingJob.progress}). With
 * `earlyStoppingPatience` and a source-dev evaluator it stops once source dev stopped improving.
 */
export async function train<F extends Feature>(job: TrainingJob<F>): Promise<TrainingResult> {
  const options = resolveTrainingOptions(job.options);
  validate(options, job.features.length, job.sourceDev !== undefined);
  const tf = await loadTf();
  const { runtime, head } = job;
  const output: ProgressOutput = job.progress ?? (job.log ? lineOutput(job.log) : { tty: Boolean(process.stderr.isTTY), write: (text) => process.stderr.write(text) });
  const N = job.features.length;
  const accumulation = options.gradientAccumulationSteps;
  const microPerEpoch = Math.ceil(N / options.batchSize);
  const stepsPerEpoch = Math.ceil(microPerEpoch / accumulation);
  const totalSteps = stepsPerEpoch * options.epochs;
  const saveAt = checkpointSteps(options, stepsPerEpoch, totalSteps);
  const headShapes = head.parameters;
  const headNames = Object.keys(headShapes);
  const fingerprint = JSON.stringify({
    learningRate: options.learningRate,
    batchSize: options.batchSize,
    epochs: options.epochs,
    gradientAccumulationSteps: accumulation,
    schedule: options.schedule,
    // Only for the schedule that reads them, so that checkpoints of older versions still resume.
    ...(options.schedule === 'polynomial' ? { polynomialPower: options.polynomialPower, polynomialEndLearningRate: options.polynomialEndLearningRate } : {}),
    warmupSteps: warmupStepsOf(options, totalSteps),
    weightDecay: options.weightDecay,
    betas: [options.beta1, options.beta2],
    epsilon: options.epsilon,
    maxGradNorm: options.maxGradNorm,
    seed: options.seed,
    freezeHead: options.freezeHead,
    features: N,
  });

  // As transformers' from_pretrained: parameters the initial head holds (a pretrained pooler) are kept, the rest
  // are drawn. All are drawn, whatever is kept, so that the drawn ones do not depend on what the folder held.
  let headParams: HeadParameters = { ...head.init(seededRandom(deriveSeed(options.seed, 'head-init'))), ...job.initialHead };
  checkHead(headParams, headShapes, job.initialHead ? 'the initial head (completed by head.init())' : 'head.init()');
  headParams = Object.fromEntries(headNames.map((n) => [n, Float32Array.from(headParams[n]!)]));
  let headM: HeadParameters = Object.fromEntries(headNames.map((n) => [n, new Float32Array(headParams[n]!.length)]));
  let headV: HeadParameters = Object.fromEntries(headNames.map((n) => [n, new Float32Array(headParams[n]!.length)]));
  const headGrads: HeadParameters = Object.fromEntries(headNames.map((n) => [n, new Float32Array(headParams[n]!.length)]));

  let step = 0;
  let resumedFrom: number | undefined;
  let resumedPath: string | undefined;
  await removePartialCheckpoints(job.runDir);
  if (options.resume) {
    const newest = (await listCheckpoints(job.runDir)).filter((c) => c.hasState).at(-1);
    if (newest) {
      const resumed = await loadResumeState(newest.path, runtime, headShapes, fingerprint);
      ({ head: headParams, headM, headV } = resumed);
      step = resumed.position.step;
      resumedFrom = step;
      resumedPath = newest.path;
    }
  }

  const encoderNoDecay = new Set([...runtime.parameters().keys()].filter(isNoDecayParameter));
  const headNoDecay = new Set(headNames.filter(isNoDecayParameter));
  const frozen = options.freezeHead;
  const progress = new ProgressReporter(output, { everySteps: options.loggingSteps, everySeconds: options.progressEverySeconds }, step);
  if (resumedPath) progress.note(`resuming ${job.runDir} from step ${step} (${resumedPath})`);
  const stopping = new EarlyStopping(options, job.sourceDevMetric);
  // A resumed run takes up the patience where the checkpoints it has left it (and does not restart a stopped run).
  if (stopping.enabled && resumedFrom !== undefined) {
    for (const c of await checkpointInfos(job.runDir, job.runId ?? basename(job.runDir), totalSteps)) if (c.step <= resumedFrom && c.sourceDev) stopping.observe(c.step, c.sourceDev, c.path);
  }
  let stoppedEarlyAt = stopping.shouldStop() ? step : undefined;
  if (stoppedEarlyAt !== undefined) progress.note(`${job.runDir} stopped early at step ${step} before (${stopping.describe()}); not training further`);
  const telemetry = stoppedEarlyAt === undefined && step < totalSteps ? await RunTelemetry.open(job.runDir, step) : undefined;
  let lossSum = 0;
  let lossCount = 0;
  let windowLoss = 0;
  let windowCount = 0;
  let windowTokens = 0;
  let windowStart = performance.now();
  let learningRate = 0;
  let gradientNorm = 0;
  let order: number[] = [];
  let orderEpoch = -1;

  try {
    while (step < totalSteps && stoppedEarlyAt === undefined) {
      const epoch = Math.floor(step / stepsPerEpoch);
      if (orderEpoch !== epoch) {
        order = shuffled(job.features.map((_, i) => i), seededRandom(deriveSeed(options.seed, 'order', epoch)));
        orderEpoch = epoch;
      }
      const first = (step % stepsPerEpoch) * accumulation;
      const last = Math.min(first + accumulation, microPerEpoch);
      runtime.zeroGradients();
      for (const g of Object.values(headGrads)) g.fill(0);
      let stepLoss = 0;
      // HF divides each micro-batch's loss by the number summed into the step.
      const scale = 1 / (last - first);
      for (let micro = first; micro < last; micro++) {
        const features = order.slice(micro * options.batchSize, (micro + 1) * options.batchSize).map((i) => job.features[i]!);
        const batch = padBatch(features, runtime.config, job.provider);
        const hidden = await runtime.forward(batch, { training: true, dropoutSeed: deriveSeed(options.seed, 'encoder-dropout', step, micro) });
        const targets = job.task.collate(features, batch.sequenceLength, job.context);
        const shape = [batch.batchSize, batch.sequenceLength, runtime.config.hiddenSize] as const;
        const g = headLossAndGradients(tf, head, headParams, hidden, shape, targets, {
          frozen,
          dropoutSeed: deriveSeed(options.seed, 'head-dropout', step, micro),
        });
        for (let i = 0; i < g.dHidden.length; i++) g.dHidden[i]! *= scale;
        await runtime.backward(g.dHidden);
        if (g.dParams) {
          for (const n of headNames) {
            const into = headGrads[n]!;
            const add = g.dParams[n]!;
            for (let i = 0; i < into.length; i++) into[i]! += add[i]! * scale;
          }
        }
        stepLoss += g.loss * scale;
        const tokens = realTokens(batch);
        progress.addTokens(tokens);
        windowTokens += tokens;
      }
      if (!Number.isFinite(stepLoss)) throw new XltError(`Training diverged: the loss is ${stepLoss} at step ${step + 1} of ${job.runDir}.`);

      gradientNorm = clipGradients(options.maxGradNorm, runtime, frozen ? [] : Object.values(headGrads));
      // A NaN or infinite gradient would pass clipping (its coefficient is NaN) and poison every weight through AdamW.
      if (!Number.isFinite(gradientNorm)) {
        throw new XltError(`Training diverged: the gradient norm is ${gradientNorm} at step ${step + 1} of ${job.runDir} (loss ${stepLoss}); nothing of this step was applied. Lower the learning rate or check the data.`);
      }
      learningRate = learningRateAt(step, totalSteps, options);
      const adam: AdamWStep = {
        learningRate,
        beta1: options.beta1,
        beta2: options.beta2,
        epsilon: options.epsilon,
        weightDecay: options.weightDecay,
        step: step + 1,
        noDecay: encoderNoDecay,
      };
      runtime.adamw(adam);
      if (!frozen) {
        for (const n of headNames) adamwUpdate(headParams[n]!, headGrads[n]!, headM[n]!, headV[n]!, adam, !headNoDecay.has(n));
      }
      step++;
      lossSum += stepLoss;
      lossCount++;
      windowLoss += stepLoss;
      windowCount++;
      await job.onStep?.(step);
      // After onStep, so that this line is the one left on a terminal that the experiment's progress also draws on.
      progress.update({ step, totalSteps, epoch: step / stepsPerEpoch, loss: windowLoss / windowCount, learningRate });
      if (step % options.loggingSteps === 0 || step === totalSteps) {
        const now = performance.now();
        await telemetry!.training({
          type: 'train',
          step,
          epoch: step / stepsPerEpoch,
          loss: windowLoss / windowCount,
          learning_rate: learningRate,
          grad_norm: gradientNorm,
          tokens_per_second: windowTokens / Math.max(1e-6, (now - windowStart) / 1000),
          memory: memorySnapshot(() => tf.memory() as { numBytes: number; numBytesInGPU?: number }),
          wall_time: Date.now() / 1000,
        });
        windowLoss = 0;
        windowCount = 0;
        windowTokens = 0;
        windowStart = now;
      }
      if (!saveAt.has(step)) continue;

      const at = { step, epoch: step / stepsPerEpoch };
      let sourceDev: Metrics | undefined;
      if (job.sourceDev) {
        const evalBatch = job.evalBatchSize ?? options.batchSize * 2;
        sourceDev = await job.sourceDev((features) => predict(runtime, head, headParams, features, evalBatch, job.provider), at);
      }
      const metadata: Record<string, string> = {
        step: String(step),
        epoch: String(at.epoch),
        total_steps: String(totalSteps),
        learning_rate: String(learningRate),
        train_loss: String(lossSum / lossCount),
        seed: String(options.seed),
      };
      for (const [metric, value] of Object.entries(sourceDev ?? {})) metadata[`source_dev_${metric}`] = String(value);
      // Logged before the folder is written: a crash in between leaves a record of a later step than the newest
      // checkpoint, which the resumed session removes, never a checkpoint without its record.
      await telemetry!.checkpoint(
        { type: 'checkpoint', step, epoch: at.epoch, checkpoint: basename(checkpointFolder(job.runDir, step)), train_loss: lossSum / lossCount, ...(sourceDev ? { source_dev: sourceDev } : {}), wall_time: Date.now() / 1000 },
        stopping.metricFor(sourceDev),
      );
      const epochPosition = Math.min(N, ((step % stepsPerEpoch) * accumulation) * options.batchSize);
      const folder = await writeCheckpointFolder(job.runDir, step, {
        config: runtime.config,
        encoder: runtime.parameters(),
        head: asNamed(headParams, headShapes),
        labels: job.context.labels,
        architecture: taskArchitecture(runtime.config, head),
        metadata,
        state: {
          tensors: stateTensors(runtime, headM, headV, headShapes),
          metadata: stateMetadata({ step, epoch: Math.floor(step / stepsPerEpoch), epochPosition }, options.seed, totalSteps, fingerprint),
        },
        tokenizerFolder: job.tokenizerFolder,
      });
      // Only the newest checkpoint keeps the optimizer state (three times the model's size) for resuming.
      for (const older of await listCheckpoints(job.runDir)) {
        if (older.hasState && older.path !== folder) await rm(join(older.path, TRAINER_STATE_FILE), { force: true });
      }
      if (sourceDev && stopping.enabled) stopping.observe(step, sourceDev, folder);
      lossSum = 0;
      lossCount = 0;
      if (stopping.shouldStop()) {
        stoppedEarlyAt = step;
        const best = stopping.best!;
        telemetry!.earlyStopping({ type: 'early_stopping', step, metric: best.metric, best: best.value, best_step: best.step, patience: options.earlyStoppingPatience!, wall_time: Date.now() / 1000 });
        progress.note(`${job.runDir}: early stopping at step ${step} of ${totalSteps} (${stopping.describe()})`);
      }
    }
  } finally {
    progress.end();
    telemetry?.close();
  }

  return {
    runDir: job.runDir,
    checkpoints: await checkpointInfos(job.runDir, job.runId ?? basename(job.runDir), totalSteps),
    totalSteps,
    resumedFrom,
    ...(stoppedEarlyAt !== undefined ? { stoppedEarlyAt } : {}),
    head: headParams,
  };
}

/**
 * Optimizer steps after which a checkpoint is written: every N steps, K evenly spaced per epoch, and always the
 * last step (the final model). Without either setting, one per epoch.
 */
export function checkpointSteps(options: ResolvedTrainingOptions, stepsPerEpoch: number, totalSteps: number): Set<number> {
  const steps = new Set<number>([totalSteps]);
  const every = options.checkpointEverySteps;
  const perEpoch = options.checkpointsPerEpoch ?? (every === undefined ? 1 : undefined);
  if (every !== undefined) for (let s = every; s <= totalSteps; s += every) steps.add(s);
  if (perEpoch !== undefined) {
    for (let e = 0; e * stepsPerEpoch < totalSteps; e++) {
      for (let j = 1; j <= perEpoch; j++) steps.add(e * stepsPerEpoch + Math.max(1, Math.round((j * stepsPerEpoch) / perEpoch)));
    }
  }
  return steps;
}

/**
 * PyTorch `clip_grad_norm_`: scales every gradient by `max / (norm + 1e-6)` when that is below 1. The norm is global
 * over the encoder's gradients (held by the runtime) and the head's; a frozen encoder passes a runtime with none.
 */
export function clipGradients(maxNorm: number, runtime: { gradientSquaredNorm(): number; scaleGradients(f: number): void }, head: Float32Array[]): number {
  let squared = runtime.gradientSquaredNorm();
  for (const g of head) for (let i = 0; i < g.length; i++) squared += g[i]! * g[i]!;
  const norm = Math.sqrt(squared);
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) return norm;
  const coefficient = maxNorm / (norm + 1e-6);
  if (coefficient < 1) {
    runtime.scaleGradients(coefficient);
    for (const g of head) for (let i = 0; i < g.length; i++) g[i]! *= coefficient;
  }
  return norm;
}

function validate(options: ResolvedTrainingOptions, features: number, hasSourceDev: boolean): void {
  const problems: string[] = [];
  const positiveInt = (name: string, value: number | undefined) => {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) problems.push(`${name} must be a whole number >= 1, found ${value}`);
  };
  positiveInt('batchSize', options.batchSize);
  positiveInt('epochs', options.epochs);
  positiveInt('gradientAccumulationSteps', options.gradientAccumulationSteps);
  positiveInt('checkpointEverySteps', options.checkpointEverySteps);
  positiveInt('checkpointsPerEpoch', options.checkpointsPerEpoch);
  if (!(options.learningRate > 0)) problems.push(`learningRate must be > 0, found ${options.learningRate}`);
  if (!(options.warmupRatio >= 0 && options.warmupRatio <= 1)) problems.push(`warmupRatio must be in [0, 1], found ${options.warmupRatio}`);
  if (options.warmupSteps !== undefined && !(Number.isInteger(options.warmupSteps) && options.warmupSteps >= 0)) {
    problems.push(`warmupSteps must be a whole number >= 0, found ${options.warmupSteps}`);
  }
  if (!Number.isInteger(options.seed)) problems.push(`seed must be an integer, found ${options.seed}`);
  positiveInt('loggingSteps', options.loggingSteps);
  if (!LEARNING_RATE_SCHEDULES.includes(options.schedule)) problems.push(`schedule must be one of ${LEARNING_RATE_SCHEDULES.join(', ')}, found ${JSON.stringify(options.schedule)}`);
  if (options.schedule === 'polynomial') {
    if (!(options.polynomialPower > 0)) problems.push(`polynomialPower must be > 0, found ${options.polynomialPower}`);
    if (!(options.polynomialEndLearningRate >= 0 && options.polynomialEndLearningRate < options.learningRate)) {
      problems.push(`polynomialEndLearningRate must be >= 0 and below learningRate (${options.learningRate}), found ${options.polynomialEndLearningRate}`);
    }
  }
  for (const [name, value] of [['beta1', options.beta1], ['beta2', options.beta2]] as const) {
    if (!(value >= 0 && value < 1)) problems.push(`${name} must be in [0, 1), found ${value}`);
  }
  if (!(options.epsilon > 0)) problems.push(`epsilon must be > 0, found ${options.epsilon}`);
  if (options.progressEverySeconds !== undefined && !(options.progressEverySeconds > 0)) problems.push(`progressEverySeconds must be > 0, found ${options.progressEverySeconds}`);
  positiveInt('earlyStoppingPatience', options.earlyStoppingPatience);
  if (!(options.earlyStoppingThreshold >= 0)) problems.push(`earlyStoppingThreshold must be >= 0, found ${options.earlyStoppingThreshold}`);
  if (options.earlyStoppingPatience !== undefined && !hasSourceDev) {
    problems.push('earlyStoppingPatience is set, but the job has no source-dev evaluator (TrainingJob.sourceDev): early stopping needs source-dev scores at checkpoints');
  }
  if (features === 0) problems.push('there are no training features');
  if (problems.length) throw new XltError(`Invalid training settings:\n  - ${problems.join('\n  - ')}`);
}

function checkHead(params: HeadParameters, shapes: Readonly<Record<string, readonly number[]>>, what: string): void {
  const problems: string[] = [];
  for (const [name, shape] of Object.entries(shapes)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const p = params[name];
    if (!p) problems.push(`${name}: missing`);
    else if (p.length !== size) problems.push(`${name}: expected ${size} values (shape [${shape.join(', ')}]), found ${p.length}`);
  }
  if (problems.length) throw new XltError(`Head parameters from ${what} do not match the head:\n  - ${problems.join('\n  - ')}`);
}

function asNamed(params: HeadParameters, shapes: Readonly<Record<string, readonly number[]>>): NamedTensors {
  return new Map(Object.keys(shapes).map((n) => [n, { shape: shapes[n]!, data: params[n]! }]));
}

/** The run's complete checkpoints with the step, epoch and source-dev metrics from their metadata. */
async function checkpointInfos(runDir: string, run: string, totalSteps: number): Promise<CheckpointInfo[]> {
  const out: CheckpointInfo[] = [];
  for (const { step, path } of await listCheckpoints(runDir)) {
    const file = await SafetensorsFile.open(join(path, SAFETENSORS_FILE));
    const meta = file.metadata;
    await file.close();
    const sourceDev = Object.fromEntries(
      Object.entries(meta)
        .filter(([k]) => k.startsWith('source_dev_'))
        .map(([k, v]) => [k.slice('source_dev_'.length), Number(v)]),
    );
    out.push({
      path,
      run,
      step,
      epoch: meta.epoch !== undefined ? Number(meta.epoch) : undefined,
      totalSteps,
      sourceDev: Object.keys(sourceDev).length ? sourceDev : undefined,
    });
  }
  return out;
}

/** Head parameters of a saved checkpoint (folder or `.safetensors` file), e.g. to start another run from them. */
export async function loadHeadParameters(path: string, shapes: Readonly<Record<string, readonly number[]>>): Promise<HeadParameters> {
  const file = await SafetensorsFile.open(path.endsWith('.safetensors') ? path : join(path, SAFETENSORS_FILE));
  try {
    const out: HeadParameters = {};
    for (const [name, shape] of Object.entries(shapes)) {
      const info = file.tensors.get(name);
      const size = shape.reduce((a, b) => a * b, 1);
      if (!info) throw new XltError(`${file.path}: the head parameter ${name} is missing.`);
      const data = await file.readFloat32(name);
      if (data.length !== size) throw new XltError(`${file.path}: ${name} has ${data.length} values, the head expects shape [${shape.join(', ')}].`);
      out[name] = data;
    }
    return out;
  } finally {
    await file.close();
  }
}
