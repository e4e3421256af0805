import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { selectBackend, type BackendChoice } from '../backends/select-backend.js';
import {
  type Engine,
  XltError,
  type Feature,
  type TaskContext,
  type TaskHead,
  writeSafetensors,
} from '@xlt/plugin-api';
import { resolveModel } from '../hub/resolve-model.js';
import { loadPretrained } from '../model/load-pretrained.js';
import type { PretrainedModel } from '../model/pretrained-model.js';
import { loadFolderTokenizer } from '../model/encode-command.js';
import type { HeadParameters } from '../trainer/head-pass.js';
import { predict } from '../trainer/predict.js';
import { loadHeadParameters } from '../trainer/train.js';
import { withLivePrefix, type ProgressOutput } from '../trainer/progress.js';
import { METRICS_FILE } from '../telemetry/metrics-log.js';
import type { TrainingJob, TrainingResult } from '../trainer/training-job.js';
import type { SourceDevEvaluator } from '../trainer/training-options.js';
import { resolveConfigPath } from './experiment-data.js';
import { FeatureCache } from './feature-cache.js';
import { checkModelFits } from './model-fit.js';
import { trainLinearProbe } from './linear-probe.js';
import { type ExperimentServices, type HeadTrainingJob, type PredictionJob, type RunTrainingJob, type TrainingInput } from './services.js';

/** Options of {@link engineServices}. */
export interface EngineServicesOptions {
  /** Where notes (the backend chosen) go, one line per call; given, it also takes the trainer's progress lines. */
  readonly log?: (line: string) => void;
  /** Where the trainer's progress goes (default: see {@link engineServices}). */
  readonly progress?: ProgressOutput;
}


/** File of the shared head that the head phase writes into its folder. */
export const SHARED_HEAD_FILE = 'head.safetensors';

/**
 * Compute threads of a backend, for provenance: what its probe reports (`8 threads`, `single thread`), one for
 * TF.js's JavaScript kernels, else libtensorflow's default (`TF_NUM_INTRAOP_THREADS`, else every core).
 */
export function backendThreads(id: string, detail: string): number {
  const counted = /(\d+) threads?\b/.exec(detail);
  if (counted) return Number(counted[1]);
  if (/single thread|JavaScript kernels/i.test(detail) || id === 'tfjs-cpu') return 1;
  const intraOp = Number(process.env['TF_NUM_INTRAOP_THREADS']);
  return Number.isInteger(intraOp) && intraOp > 0 ? intraOp : availableParallelism();
}

/**
 * The head parameters a model folder holds, by the head's names and shapes: the task-head tensors of a fine-tuned
 * folder and BERT's pooler, which `loadPretrained` keeps apart from the head. `missing` describes each parameter
 * the folder lacks or holds with another shape (a classifier for another label count); training draws those
 * fresh, as `transformers`' `from_pretrained` does, prediction cannot.
 */
function headFrom(pretrained: Pick<PretrainedModel, 'head' | 'pooler'>, head: TaskHead): { params: HeadParameters; missing: string[] } {
  const params: HeadParameters = {};
  const missing: string[] = [];
  for (const [name, shape] of Object.entries(head.parameters)) {
    const t = pretrained.head.get(name) ?? pretrained.pooler.get(name);
    if (t && t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i])) params[name] = t.data;
    else missing.push(`${name} (expected shape [${shape.join(', ')}], found ${t ? `shape [${t.shape.join(', ')}]` : 'nothing'})`);
  }
  return { params, missing };
}

/**
 * The real steps of an experiment on an encoder: the model folder is loaded with `loadPretrained`, the encoder
 * built on the selected backend, data featurized with the tokenizer of the job's (or the first fitting)
 * `TokenizerProvider` and the task; training goes to the job's `Trainer` plugin, averaging to the named
 * `CheckpointMerger` (`@xlt/averaging` binds `streaming-mean`), prediction to core's `predict` and the task's
 * `decode`. Every one of them comes from the engine's registries, so a plugin package can replace it.
 *
 * The trainer's progress (step, loss, learning rate, tokens/s, ETA) goes to stderr, redrawn in place on a terminal
 * and a plain line every `training.loggingSteps` steps otherwise; with `log` (tests, quiet callers) it goes there
 * as plain lines instead, like every other note.
 */
export function engineServices(engine: Engine, options: EngineServicesOptions = {}): ExperimentServices {
  const log = options.log ?? ((line: string) => process.stderr.write(`[xlt] ${line}\n`));
  const progress: ProgressOutput =
    options.progress ?? (options.log ? { tty: false, write: (text) => options.log!(text.replace(/\n$/, '')) } : { tty: Boolean(process.stderr.isTTY), write: (text) => process.stderr.write(text), prefix: '[xlt] ' });
  const backends = new Map<string, Promise<BackendChoice>>();
  const backendFor = (id: string) => {
    let choice = backends.get(id);
    if (!choice) {
      choice = selectBackend(engine.backends, id === 'auto' ? undefined : id).then((c) => (log(c.line), c));
      backends.set(id, choice);
    }
    return choice;
  };
  const cache = new FeatureCache();
  const load = async (model: string, backend: string, tokenizerId: string | undefined) => {
    const pretrained = await loadPretrained(model, { engine });
    // The tokenizer first: a folder no provider reads fails before a backend is set up for it.
    const { tokenizer, fingerprint } = await cache.tokenizer(pretrained.folder, tokenizerId ?? '', () =>
      tokenizerId === undefined ? loadFolderTokenizer(engine, pretrained.folder) : engine.tokenizers.get(tokenizerId).load(pretrained.folder),
    );
    const { backend: chosen } = await backendFor(backend);
    const runtime = await chosen.createEncoder(pretrained.config, pretrained.provider, pretrained.encoder);
    return { pretrained, runtime, tokenizer, fingerprint };
  };
  type Loaded = Awaited<ReturnType<typeof load>>;
  // Models held by `retain`: loaded at their first prediction, disposed when the last holder releases them.
  const retained = new Map<string, { holders: number; loaded?: Promise<Loaded> }>();
  const keyOf = (model: string, backend: string, tokenizer: string | undefined) => `${backend}\u0000${tokenizer ?? ''}\u0000${resolve(model)}`;
  const runTraining = (trainer: string, job: TrainingJob<Feature>): Promise<TrainingResult> => engine.trainers.get(trainer).train(job) as Promise<TrainingResult>;

  /** The model on its backend, the training features and a fresh head: what both training phases start from. */
  const prepareTraining = async (job: TrainingInput, batchSize: number) => {
    const loaded = await load(job.model, job.backend, job.tokenizer);
    try {
      checkModelFits(loaded.pretrained, loaded.tokenizer, job.training.maxLength, 'training.maxLength');
      const context: TaskContext = { labels: job.labels, maxLength: job.training.maxLength, options: job.taskOptions };
      const features = await cache.featurize(job.task, job.train, loaded.tokenizer, loaded.fingerprint, context);
      const batches = Math.ceil(features.length / batchSize);
      if (job.training.gradientAccumulation > batches) {
        throw new XltError(
          `training.gradientAccumulation is ${job.training.gradientAccumulation}, but an epoch of ${features.length} training features in batches of ${batchSize} has ${batches} batches, so no optimizer step would complete. Lower it to at most ${batches}.`,
        );
      }
      const head = job.task.createHead({ encoder: loaded.pretrained.config, labels: job.labels, options: job.taskOptions });
      // The members every training job of the trainer and the head phase share.
      const common = { runtime: loaded.runtime, provider: loaded.pretrained.provider, task: job.task, head, context, features };
      return { ...loaded, common };
    } catch (error) {
      loaded.runtime.dispose();
      throw error;
    }
  };

  return {
    async countTrainingFeatures(input: TrainingInput) {
      // The tokenizer only (no encoder on a backend); the features stay cached for the training that follows.
      const { tokenizer, fingerprint } = await cache.tokenizer(input.model, input.tokenizer ?? '', () =>
        input.tokenizer === undefined ? loadFolderTokenizer(engine, input.model) : engine.tokenizers.get(input.tokenizer).load(input.model),
      );
      const context: TaskContext = { labels: input.labels, maxLength: input.training.maxLength, options: input.taskOptions };
      return (await cache.featurize(input.task, input.train, tokenizer, fingerprint, context)).length;
    },
    async train(job: RunTrainingJob) {
      const { training } = job;
      const dev = job.sourceDev;
      // Runs without source dev (the zero-shot runs that few-shot runs start from are not evaluated) train to the end.
      const patience = dev ? training.earlyStoppingPatience : undefined;
      if (training.earlyStoppingPatience !== undefined && !dev) log(`run ${job.runId} has no source dev scores to watch, so it trains without early stopping`);
      const { pretrained, runtime, tokenizer, fingerprint, common } = await prepareTraining(job, job.hyperparameters.batchSize);
      const { features, head } = common;
      // Scores the model as it is at a checkpoint as scoreModel scores a saved one: same features, decoding, metric.
      const sourceDev: SourceDevEvaluator<Feature> | undefined = dev
        ? async (predictFeatures) => {
            const context: TaskContext = { labels: job.labels, maxLength: training.maxLength, options: job.taskOptions, language: dev.language };
            const devFeatures = await cache.featurize(job.task, dev.examples, tokenizer, fingerprint, context);
            const predictions = job.task.decode(await predictFeatures(devFeatures), devFeatures, dev.examples, context);
            if (predictions.length !== dev.examples.length) {
              throw new XltError(`Scoring run ${job.runId} on source dev gave ${predictions.length} predictions for ${dev.examples.length} ${dev.language} examples.`);
            }
            return job.task.score(dev.examples, predictions, context);
          }
        : undefined;
      try {
        const hp = job.hyperparameters;
        const accumulation = training.gradientAccumulation;
        const total = Math.ceil(Math.ceil(features.length / hp.batchSize) / accumulation) * hp.epochs;
        const result = await runTraining(job.trainer, {
          ...common,
          runDir: job.runDir,
          runId: job.runId,
          initialHead: job.head ? await loadHeadParameters(job.head.file, head.parameters) : headFrom(pretrained, head).params,
          options: {
            learningRate: hp.learningRate,
            batchSize: hp.batchSize,
            epochs: hp.epochs,
            gradientAccumulationSteps: accumulation,
            schedule: hp.schedule,
            polynomialPower: training.polynomialPower,
            warmupRatio: hp.warmup,
            weightDecay: training.weightDecay,
            maxGradNorm: training.maxGradNorm,
            beta1: training.adamBeta1,
            beta2: training.adamBeta2,
            epsilon: training.adamEpsilon,
            loggingSteps: training.loggingSteps,
            earlyStoppingPatience: patience,
            earlyStoppingThreshold: training.earlyStoppingThreshold,
            seed: hp.seed,
            ...(job.checkpoints.everySteps ? { checkpointEverySteps: job.checkpoints.everySteps } : { checkpointsPerEpoch: job.checkpoints.perEpoch }),
            resume: true,
            freezeHead: job.head?.frozen ?? false,
          },
          evalBatchSize: job.training.evalBatchSize,
          tokenizerFolder: pretrained.folder,
          ...(sourceDev ? { sourceDev } : {}),
          sourceDevMetric: job.task.primaryMetric,
          progress: withLivePrefix(progress, job.progressPrefix),
          onStep: (step) => job.onStep?.(step, total),
        });
        return result.checkpoints;
      } finally {
        runtime.dispose();
      }
    },
    async trainHead(job: HeadTrainingJob) {
      const { pretrained, runtime, common } = await prepareTraining(job, job.batchSize);
      const { head } = common;
      try {
        const trained = await trainLinearProbe({
          ...common,
          initialHead: headFrom(pretrained, head).params,
          options: {
            learningRate: job.learningRate,
            batchSize: job.batchSize,
            epochs: job.epochs,
            seed: job.seed,
            weightDecay: job.training.weightDecay,
            maxGradNorm: job.training.maxGradNorm,
            gradientAccumulationSteps: job.training.gradientAccumulation,
          },
          onStep: job.onStep,
          metricsFile: join(job.headDir, METRICS_FILE),
        });
        const file = join(job.headDir, SHARED_HEAD_FILE);
        const tensors = Object.entries(head.parameters).map(([name, shape]) => ({ name, dtype: 'F32' as const, shape, data: trained.head[name]! }));
        await writeSafetensors(file, tensors, { format: 'pt', seed: String(job.seed), steps: String(trained.steps), labels: JSON.stringify(job.labels) });
        return { file, steps: trained.steps };
      } finally {
        runtime.dispose();
      }
    },
    checkPlugins(config) {
      engine.trainers.get(config.trainer);
      if (config.tokenizer !== undefined) engine.tokenizers.get(config.tokenizer);
      // Without any merger the error comes when a strategy first needs an average: selection-only experiments
      // (last, best-source-dev) run without @xlt/averaging.
      if (engine.mergers.ids().length > 0) {
        for (const ref of [config.merger, ...(config.strategies ?? []).flatMap((s) => (typeof s === 'object' && s.merger ? [s.merger] : []))]) {
          engine.mergers.get(typeof ref === 'string' ? ref : ref.id);
        }
      }
    },
    async backendInfo(backend: string) {
      const { backend: chosen, probe } = await backendFor(backend);
      return { id: chosen.id, detail: probe.detail, threads: backendThreads(chosen.id, probe.detail) };
    },
    async predict(job: PredictionJob) {
      const held = retained.get(keyOf(job.model, job.backend, job.tokenizer));
      if (held) held.loaded ??= load(job.model, job.backend, job.tokenizer);
      const { pretrained, runtime, tokenizer, fingerprint } = await (held?.loaded ?? load(job.model, job.backend, job.tokenizer));
      try {
        checkModelFits(pretrained, tokenizer, job.maxLength, 'the maximum length (training.maxLength, --max-length)');
        const context: TaskContext = { labels: job.labels, maxLength: job.maxLength, options: job.taskOptions, ...(job.language ? { language: job.language } : {}) };
        const features = await cache.featurize(job.task, job.examples, tokenizer, fingerprint, context);
        const head = job.task.createHead({ encoder: pretrained.config, labels: job.labels, options: job.taskOptions });
        const { params, missing } = headFrom(pretrained, head);
        if (missing.length) {
          throw new XltError(`${pretrained.folder} has no complete ${job.task.id} head for ${job.labels.length} labels: ${missing.join('; ')}.`);
        }
        const logits = await predict(runtime, head, params, features, job.batchSize, pretrained.provider);
        return job.task.decode(logits, features, job.examples, context);
      } finally {
        if (!held) runtime.dispose();
      }
    },
    async retain(model: string, backend: string, tokenizer?: string) {
      const key = keyOf(model, backend, tokenizer);
      const entry = retained.get(key) ?? { holders: 0 };
      entry.holders++;
      retained.set(key, entry);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        if (--entry.holders > 0) return;
        retained.delete(key);
        // A load that failed has nothing to dispose; its error was already thrown to the prediction.
        entry.loaded?.then((l) => l.runtime.dispose(), () => {});
      };
    },
    async merge(plan, outDir, merger, base) {
      if (engine.mergers.ids().length === 0) {
        throw new XltError(`No checkpoint merger is registered, so the averaged models cannot be built: load @xlt/averaging (merger "streaming-mean") or a package that binds CheckpointMerger.`);
      }
      const plugin = engine.mergers.get(merger.id);
      // Options were validated with the config; parsing here fills the merger's defaults.
      const options = (plugin.optionsSchema ? plugin.optionsSchema.parse(merger.options ?? {}) : merger.options) as Record<string, unknown> | undefined;
      await plugin.merge(plan, outDir, { ...(options ? { options } : {}), ...(base !== undefined && plugin.needsBase ? { base } : {}) });
    },
    async resolveModel(model, baseDir) {
      const local = resolveConfigPath(model, baseDir);
      // A path that exists is used in place; anything else goes to the hub resolver (cache, download, offline).
      return resolveModel(existsSync(local) ? local : model);
    },
  };
}
