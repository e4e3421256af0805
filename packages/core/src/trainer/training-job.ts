import type {
  CheckpointInfo,
  EncoderRuntime,
  EncoderProvider,
  Feature,
  TaskContext,
  TaskHead,
  TaskPlugin,
} from '@xlt/plugin-api';
import type { HeadParameters } from './head-pass.js';
import type { ProgressOutput } from './progress.js';
import type { SourceDevEvaluator, TrainingOptions } from './training-options.js';

/** Everything one fine-tuning run needs: the model, the task's features and head, and the hyperparameters. */
export interface TrainingJob<F extends Feature = Feature> {
  /** Folder of the run; checkpoints go to `<runDir>/checkpoint-<step>/`. */
  readonly runDir: string;
  /** Id of the run in results (default: the folder's name). */
  readonly runId?: string;
  /** The encoder, already holding its initial (pre-trained) parameters. */
  readonly runtime: EncoderRuntime;
  /** Architecture of the encoder: position ids. */
  readonly provider: EncoderProvider;
  /** The task, for {@link TaskPlugin.collate}. */
  readonly task: Pick<TaskPlugin<unknown, F>, 'collate'>;
  readonly head: TaskHead;
  readonly context: TaskContext;
  /** Training features from {@link TaskPlugin.featurize}. */
  readonly features: readonly F[];
  readonly options: TrainingOptions;
  /**
   * Head parameters to start from, all or some (another run's checkpoint, BERT's pretrained pooler); those it
   * lacks are drawn from the seed by `head.init`.
   */
  readonly initialHead?: HeadParameters;
  /**
   * Source-language dev evaluation, run at each checkpoint; its metrics go into the checkpoint's metadata,
   * `metrics.jsonl` and TensorBoard (`eval/source_dev/<metric>`), and drive early stopping.
   */
  readonly sourceDev?: SourceDevEvaluator<F>;
  /**
   * The metric of {@link sourceDev} that ranks checkpoints (the task's `primaryMetric`): TensorBoard's
   * `eval/source_dev` and what early stopping watches unless `earlyStoppingMetric` says otherwise.
   */
  readonly sourceDevMetric?: string;
  /** Batch size of evaluation (default: twice the training batch size). */
  readonly evalBatchSize?: number;
  /** A tokenizer folder whose files are copied into each checkpoint, making it a complete HF model folder. */
  readonly tokenizerFolder?: string;
  /**
   * Where the progress line goes: redrawn in place on a terminal, else a plain line every `loggingSteps` steps.
   * Without it, progress and notes (resuming, early stopping) go as plain lines to {@link log} when that is given,
   * else to stderr (redrawn in place when stderr is a terminal).
   */
  readonly progress?: ProgressOutput;
  /** Where notes and progress lines go as plain lines when {@link progress} is not given (default: stderr). */
  readonly log?: (line: string) => void;
  /** Called after each optimizer step (tests use it to simulate a crash). */
  readonly onStep?: (step: number) => void | Promise<void>;
}

/** What a run produced. */
export interface TrainingResult {
  readonly runDir: string;
  /** Every complete checkpoint of the run folder, in step order; the last is the final model. */
  readonly checkpoints: CheckpointInfo[];
  readonly totalSteps: number;
  /** Step the run resumed from, when it did. */
  readonly resumedFrom?: number;
  /** Step at which early stopping ended the run (its last checkpoint), when it did. */
  readonly stoppedEarlyAt?: number;
  /** Final head parameters. */
  readonly head: HeadParameters;
}
