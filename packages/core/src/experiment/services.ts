import type { ExperimentConfig } from '../config/experiment-schema.js';
import type { CheckpointInfo, WeightedCheckpoint } from '../plugins/averaging.js';
import type { TaskPlugin } from '../plugins/task.js';
import type { GridPoint } from './grid.js';

/** What the experiment asks a trainer to do for one run. The trainer resumes from the newest checkpoint in `runDir`. */
export interface RunTrainingJob {
  /** The run key, e.g. `lr=2e-05_bs=32_ep=3_sched=linear_wu=0.1_seed=1`. */
  readonly runId: string;
  /** Where checkpoints go: `<runDir>/checkpoint-<step>/`, each an HF model folder. */
  readonly runDir: string;
  readonly task: TaskPlugin;
  readonly taskOptions: Record<string, unknown>;
  /** HF model folder to start from: the pretrained encoder or, for few-shot runs, a fine-tuned checkpoint. */
  readonly model: string;
  /** Backend id or `auto`. */
  readonly backend: string;
  /** Training examples, already read and capped (source data, plus target shots in few-shot runs). */
  readonly train: readonly unknown[];
  /** The label inventory of the experiment, in the task's order. */
  readonly labels: readonly string[];
  readonly hyperparameters: GridPoint;
  readonly training: ExperimentConfig['training'];
  readonly checkpoints: ExperimentConfig['checkpoints'];
  /** Called after each optimizer step, for progress. */
  readonly onStep?: (step: number, totalSteps: number) => void;
}

/** What the experiment asks for when it evaluates a model on one data set. */
export interface PredictionJob {
  readonly task: TaskPlugin;
  readonly taskOptions: Record<string, unknown>;
  /** An HF model folder (a checkpoint or an averaged model). */
  readonly model: string;
  readonly backend: string;
  readonly examples: readonly unknown[];
  readonly labels: readonly string[];
  readonly language?: string;
  readonly maxLength: number;
  readonly batchSize: number;
}

/**
 * Writes the weighted average of a plan's checkpoints as one HF model folder. Bound by `@xlt/averaging`
 * (its streaming `averageCheckpoints`), so core never imports the averaging package.
 */
export interface CheckpointMerger {
  /** Writes the average of `plan` (weights sum to 1) as an HF model folder at `outDir` (created, must not exist). */
  merge(plan: readonly WeightedCheckpoint[], outDir: string): Promise<void>;
}

/** Service identifier of {@link CheckpointMerger}. */
export const CheckpointMerger: unique symbol = Symbol.for('xlt.CheckpointMerger');

/**
 * The heavy steps of an experiment, behind one seam so the protocol (grid, resume, strategies, evaluation,
 * results) is the same whether the steps run on a backend or, in tests, on small fakes.
 * {@link engineServices} builds the real ones from the engine.
 */
export interface ExperimentServices {
  /** Trains (or resumes) one run; returns its checkpoints in step order, the last being the final model. */
  train(job: RunTrainingJob): Promise<CheckpointInfo[]>;
  /** One prediction per example, as {@link TaskPlugin.decode} makes them. */
  predict(job: PredictionJob): Promise<unknown[]>;
  /** See {@link CheckpointMerger.merge}. */
  merge(plan: readonly WeightedCheckpoint[], outDir: string): Promise<void>;
  /** A local HF model folder for the config's `model` (a path relative to `baseDir`, or a hub id). */
  resolveModel(model: string, baseDir: string): Promise<string>;
  /**
   * Optional: keeps a model folder loaded on a backend from its first prediction until the returned function is
   * called, so that scoring one model on several data sets (a strategy model on every target language, a
   * checkpoint on each dev set) loads it once. Without it, every {@link predict} loads the model.
   */
  retain?(model: string, backend: string): Promise<() => void>;
}
