import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { selectBackend, type BackendChoice } from '../backends/select-backend.js';
import type { Engine } from '../engine/engine.js';
import { XltError } from '../errors.js';
import { resolveModel } from '../hub/resolve-model.js';
import { loadPretrained } from '../model/load-pretrained.js';
import type { PretrainedModel } from '../model/pretrained-model.js';
import type { Feature, TaskContext, TaskHead } from '../plugins/task.js';
import { loadTokenizer } from '../tokenizer/load-tokenizer.js';
import type { HeadParameters } from '../trainer/head-pass.js';
import { predict } from '../trainer/predict.js';
import { loadHeadParameters, train as trainRun } from '../trainer/train.js';
import { writeSafetensors } from '../safetensors/writer.js';
import type { TrainingJob, TrainingResult } from '../trainer/training-job.js';
import { resolveConfigPath } from './experiment-data.js';
import { trainLinearProbe } from './linear-probe.js';
import { CheckpointMerger, type ExperimentServices, type HeadTrainingJob, type PredictionJob, type RunTrainingJob, type TrainingInput } from './services.js';

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
 * built on the selected backend, data featurized with the folder's tokenizer and the task; training goes to the
 * trainer bound as `default` (else core's own `train`), averaging to the bound {@link CheckpointMerger}
 * (`@xlt/averaging`), prediction to the trainer's `predict` and the task's `decode`.
 */
export function engineServices(engine: Engine, options: { readonly log?: (line: string) => void } = {}): ExperimentServices {
  const log = options.log ?? ((line: string) => process.stderr.write(`[xlt] ${line}\n`));
  const backends = new Map<string, Promise<BackendChoice>>();
  const backendFor = (id: string) => {
    let choice = backends.get(id);
    if (!choice) {
      choice = selectBackend(engine.backends, id === 'auto' ? undefined : id).then((c) => (log(c.line), c));
      backends.set(id, choice);
    }
    return choice;
  };
  const load = async (model: string, backend: string) => {
    const pretrained = await loadPretrained(model, { engine });
    const { backend: chosen } = await backendFor(backend);
    const runtime = await chosen.createEncoder(pretrained.config, pretrained.provider, pretrained.encoder);
    const tokenizer = await loadTokenizer(pretrained.folder);
    return { pretrained, runtime, tokenizer };
  };
  type Loaded = Awaited<ReturnType<typeof load>>;
  // Models held by `retain`: loaded at their first prediction, disposed when the last holder releases them.
  const retained = new Map<string, { holders: number; loaded?: Promise<Loaded> }>();
  const keyOf = (model: string, backend: string) => `${backend}\u0000${resolve(model)}`;
  const runTraining = (job: TrainingJob<Feature>): Promise<TrainingResult> =>
    engine.trainers.has('default') ? (engine.trainers.get('default').train(job) as Promise<TrainingResult>) : trainRun(job);

  /** The model on its backend, the training features and a fresh head: what both training phases start from. */
  const prepareTraining = async (job: TrainingInput) => {
    const loaded = await load(job.model, job.backend);
    try {
      const context: TaskContext = { labels: job.labels, maxLength: job.training.maxLength, options: job.taskOptions };
      const features = await job.task.featurize(job.train, loaded.tokenizer, context);
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
    async train(job: RunTrainingJob) {
      const { pretrained, runtime, common } = await prepareTraining(job);
      const { features, head } = common;
      try {
        const hp = job.hyperparameters;
        const accumulation = job.training.gradientAccumulation;
        const total = Math.ceil(Math.ceil(features.length / hp.batchSize) / accumulation) * hp.epochs;
        const result = await runTraining({
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
            warmupRatio: hp.warmup,
            weightDecay: job.training.weightDecay,
            maxGradNorm: job.training.maxGradNorm,
            seed: hp.seed,
            ...(job.checkpoints.everySteps ? { checkpointEverySteps: job.checkpoints.everySteps } : { checkpointsPerEpoch: job.checkpoints.perEpoch }),
            resume: true,
            freezeHead: job.head?.frozen ?? false,
          },
          evalBatchSize: job.training.evalBatchSize,
          tokenizerFolder: pretrained.folder,
          log: () => {},
          onStep: (step) => job.onStep?.(step, total),
        });
        return result.checkpoints;
      } finally {
        runtime.dispose();
      }
    },
    async trainHead(job: HeadTrainingJob) {
      const { pretrained, runtime, common } = await prepareTraining(job);
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
        });
        const file = join(job.headDir, SHARED_HEAD_FILE);
        const tensors = Object.entries(head.parameters).map(([name, shape]) => ({ name, dtype: 'F32' as const, shape, data: trained.head[name]! }));
        await writeSafetensors(file, tensors, { format: 'pt', seed: String(job.seed), steps: String(trained.steps), labels: JSON.stringify(job.labels) });
        return { file, steps: trained.steps };
      } finally {
        runtime.dispose();
      }
    },
    async backendInfo(backend: string) {
      const { backend: chosen, probe } = await backendFor(backend);
      return { id: chosen.id, detail: probe.detail, threads: backendThreads(chosen.id, probe.detail) };
    },
    async predict(job: PredictionJob) {
      const held = retained.get(keyOf(job.model, job.backend));
      if (held) held.loaded ??= load(job.model, job.backend);
      const { pretrained, runtime, tokenizer } = await (held?.loaded ?? load(job.model, job.backend));
      try {
        const context: TaskContext = { labels: job.labels, maxLength: job.maxLength, options: job.taskOptions, ...(job.language ? { language: job.language } : {}) };
        const features = await job.task.featurize(job.examples, tokenizer, context);
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
    async retain(model: string, backend: string) {
      const key = keyOf(model, backend);
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
    async merge(plan, outDir) {
      if (!engine.container.isBound(CheckpointMerger)) {
        throw new XltError('No checkpoint merger is bound (xlt.CheckpointMerger): load @xlt/averaging to build averaged models.');
      }
      await engine.container.get<CheckpointMerger>(CheckpointMerger).merge(plan, outDir);
    },
    async resolveModel(model, baseDir) {
      const local = resolveConfigPath(model, baseDir);
      // A path that exists is used in place; anything else goes to the hub resolver (cache, download, offline).
      return resolveModel(existsSync(local) ? local : model);
    },
  };
}
