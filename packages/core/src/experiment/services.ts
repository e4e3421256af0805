import type { ExperimentConfig } from '../config/experiment-schema.js';
import type { CheckpointInfo, WeightedCheckpoint, TaskPlugin } from '@xlt/plugin-api';
import type { GridPoint } from './grid.js';

/** What every training phase of an experiment starts from: a task, a model folder, examples and shared settings. */
export interface TrainingInput {
  readonly task: TaskPlugin;
  readonly taskOptions: Record<string, unknown>;
  /** HF model folder to start from: the pretrained encoder or, for few-shot runs, a fine-tuned checkpoint. */
  readonly model: string;
  /** Backend id or `auto`. */
  readonly backend: string;
  /** Id of the trainer plugin that trains the run (the config's `trainer`). */
  readonly trainer: string;
  /** Id of the tokenizer provider (the config's `tokenizer`); the first that can read the folder when absent. */
  readonly tokenizer?: string;
  /** Training examples, already read and capped (source data, plus target shots in few-shot runs). */
  readonly train: readonly unknown[];
  /** The label inventory of the experiment, in the task's order. */
  readonly labels: readonly string[];
  /** Shared settings: maximum length, weight decay, gradient clipping, accumulation. */
  readonly training: ExperimentConfig['training'];
  /** Called after each optimizer step, for progress. */
  readonly onStep?: (step: number, totalSteps: number) => void;
  /** The grid's progress (`runs 2/8 ETA 1h05m`), put before the trainer's live line on a terminal. */
  readonly progressPrefix?: () => string;
}

/** What the experiment asks a trainer to do for one run. The trainer resumes from the newest checkpoint in `runDir`. */
export interface RunTrainingJob extends TrainingInput {
  /** The run key, e.g. `lr=2e-05_bs=32_ep=3_sched=linear_wu=0.1_seed=1`. */
  readonly runId: string;
  /** Where checkpoints go: `<runDir>/checkpoint-<step>/`, each an HF model folder. */
  readonly runDir: string;
  readonly hyperparameters: GridPoint;
  readonly checkpoints: ExperimentConfig['checkpoints'];
  /**
   * Source-language dev data: the trainer scores each checkpoint on it as it saves it (live in `metrics.jsonl`
   * and TensorBoard, in the checkpoint's metadata, and for early stopping). Absent: no source dev, or not evaluated.
   */
  readonly sourceDev?: { readonly examples: readonly unknown[]; readonly language: string };
  /**
   * The head to start from: the shared head file of the head phase ({@link ExperimentServices.trainHead}), kept
   * fixed when `frozen`. Absent (`training.head.protocol` is `per-run`): the model folder's own head when it has
   * one (few-shot runs continuing a zero-shot run), else a fresh head drawn from the run's seed.
   */
  readonly head?: { readonly file: string; readonly frozen: boolean };
}

/**
 * The head phase of the `shared-frozen` protocol: train the task head once on the source train data with the
 * encoder frozen (its forward without dropout, no encoder update), and save it for every run to start from.
 */
export interface HeadTrainingJob extends TrainingInput {
  /** Folder the head file goes into (created when missing). */
  readonly headDir: string;
  /** Seed of the head's initialisation, data order and head dropout. */
  readonly seed: number;
  readonly epochs: number;
  readonly learningRate: number;
  readonly batchSize: number;
}

/** What the head phase wrote. */
export interface HeadTrainingResult {
  /** The head file (inside {@link HeadTrainingJob.headDir}), what {@link RunTrainingJob.head} points at. */
  readonly file: string;
  /** Optimizer steps of the head phase. */
  readonly steps: number;
}

/** The backend an experiment runs on, for `provenance.json`. */
export interface BackendInfo {
  readonly id: string;
  /** What the backend's probe found (package, device, threads). */
  readonly detail?: string;
  /** Compute threads, where known. */
  readonly threads?: number;
}

/** What the experiment asks for when it evaluates a model on one data set. */
export interface PredictionJob {
  readonly task: TaskPlugin;
  readonly taskOptions: Record<string, unknown>;
  /** An HF model folder (a checkpoint or an averaged model). */
  readonly model: string;
  readonly backend: string;
  /** Id of the tokenizer provider; the first that can read the folder when absent. */
  readonly tokenizer?: string;
  readonly examples: readonly unknown[];
  readonly labels: readonly string[];
  readonly language?: string;
  readonly maxLength: number;
  readonly batchSize: number;
}

/**
 * The heavy steps of an experiment, behind one seam so the protocol (grid, resume, strategies, evaluation,
 * results) is the same whether the steps run on a backend or, in tests, on small fakes.
 * {@link engineServices} builds the real ones from the engine.
 */
export interface ExperimentServices {
  /** Trains (or resumes) one run; returns its checkpoints in step order, the last being the final model. */
  train(job: RunTrainingJob): Promise<CheckpointInfo[]>;
  /** The head phase of the `shared-frozen` head protocol (see {@link HeadTrainingJob}); overwrites an older file. */
  trainHead(job: HeadTrainingJob): Promise<HeadTrainingResult>;
  /** One prediction per example, as {@link TaskPlugin.decode} makes them. */
  predict(job: PredictionJob): Promise<unknown[]>;
  /**
   * Writes the merge of `plan` as an HF model folder at `outDir` with the checkpoint merger `merger` (its id and
   * options); `base` is the experiment's pretrained model, for mergers that take task vectors against it.
   */
  merge(plan: readonly WeightedCheckpoint[], outDir: string, merger: { readonly id: string; readonly options?: Readonly<Record<string, unknown>> }, base?: string): Promise<void>;
  /** A local HF model folder for the config's `model` (a path relative to `baseDir`, or a hub id). */
  resolveModel(model: string, baseDir: string): Promise<string>;
  /**
   * Optional: keeps a model folder loaded on a backend from its first prediction until the returned function is
   * called, so that scoring one model on several data sets (a strategy model on every target language, a
   * checkpoint on each dev set) loads it once. Without it, every {@link predict} loads the model.
   */
  retain?(model: string, backend: string, tokenizer?: string): Promise<() => void>;
  /**
   * Optional: throws when the config names a plugin these services would take from a registry (trainer, tokenizer
   * provider, merger) that is not there, listing the known ids; called before anything is trained.
   */
  checkPlugins?(config: Pick<ExperimentConfig, 'trainer' | 'tokenizer' | 'merger' | 'strategies'>): void;
  /**
   * Optional: how many training features `input.train` makes with the model's tokenizer (the trainer's count; a
   * QA example may make several). With it, every strategy is planned over the checkpoints the runs will save
   * before anything is trained (`checkStrategiesFit`).
   */
  countTrainingFeatures?(input: TrainingInput): Promise<number>;
  /** Optional: which backend `backend` (an id or `auto`) resolves to, for `provenance.json`. */
  backendInfo?(backend: string): Promise<BackendInfo>;
}
