import type * as tfjs from '@tensorflow/tfjs';
import type { Plugin } from './plugin.js';
import type { Tokenizer } from './tokenizer.js';
import type { EncoderConfig } from './encoder.js';

/** A data file handed to a task: its path, optionally the format (else detected) and the language. */
export interface DatasetSource {
  readonly path: string;
  /** A format id from {@link TaskPlugin.formats}; detected from the file when absent. */
  readonly format?: string;
  /** ISO code of the language, e.g. `de`; used by language-aware metrics (MLQA). */
  readonly language?: string;
}

/** One file format a task reads, e.g. `conllu`, `xnli-tsv`, `squad-json`. */
export interface DatasetFormat {
  readonly id: string;
  readonly description: string;
  /** Whether a file looks like this format, from its name and its first bytes (already gunzipped). */
  detect(path: string, head: string): boolean;
}

/**
 * A model-ready feature: the token ids of one input window. Core pads and masks; the task adds its targets.
 * Several features may come from one example (QA windows); `exampleIndex` ties them back.
 */
export interface Feature {
  readonly exampleIndex: number;
  readonly inputIds: readonly number[];
  readonly tokenTypeIds: readonly number[];
}

/** Targets of a batch as flat typed arrays, collated by the task (e.g. `labels` int32 `[B]` or `[B, T]`). */
export type BatchTargets = Record<string, Int32Array | Float32Array>;

/** What a head needs to know to build its parameters. */
export interface HeadContext {
  readonly encoder: EncoderConfig;
  /** Label inventory, in the fixed order the task defined. */
  readonly labels: readonly string[];
  readonly options: Record<string, unknown>;
}

/**
 * A task head in TF.js over the encoder's last hidden state. Its parameters use HF's names
 * (`classifier.weight`, `qa_outputs.bias`, ...) so that saved folders load in `transformers`.
 */
export interface TaskHead {
  /**
   * Parameter names and shapes, HF layout (`[out, in]` for linear weights). Names a model folder already holds
   * (BERT's pretrained pooler, the classifier of a fine-tuned folder) are loaded from it; only the rest are drawn
   * by {@link init}, as `transformers`' `from_pretrained` does.
   */
  readonly parameters: Readonly<Record<string, readonly number[]>>;
  /**
   * Suffix of the HF task-model class this head is the head of: `ForSequenceClassification`,
   * `ForTokenClassification`, `ForQuestionAnswering`. Saved folders name the class in `architectures` as the
   * encoder's class prefix ({@link EncoderConfig.architecture}) plus this (`BertForTokenClassification`), so that
   * `transformers` loads them as the fine-tuned model. Optional for heads written before it; the task conformance
   * suite requires it.
   */
  readonly architectureSuffix?: string;
  /**
   * Fresh values of every parameter (normal with `initializer_range`, zero biases), drawn from `random` (uniform in
   * [0, 1)). The trainer draws all of them and keeps those a model folder does not provide, so a run repeats.
   */
  init(random: () => number): Record<string, Float32Array>;
  /**
   * Logits from the hidden states `[B, T, H]`. `params` holds this head's parameters as tensors (by HF name);
   * `training` turns dropout on, with masks drawn from `dropoutSeed` so that a run repeats exactly.
   */
  forward(
    tf: typeof tfjs,
    hidden: tfjs.Tensor3D,
    params: Readonly<Record<string, tfjs.Tensor>>,
    training: boolean,
    dropoutSeed?: number,
  ): tfjs.Tensor;
  /** Mean loss of a batch given the logits from {@link forward} and the collated targets. */
  loss(tf: typeof tfjs, logits: tfjs.Tensor, targets: BatchTargets): tfjs.Scalar;
}

/** Metric values by name (`accuracy`, `f1`, `exact_match`, ...), in percent where the literature uses percent. */
export type Metrics = Record<string, number>;

/** Shared context of featurize/decode/score calls. */
export interface TaskContext {
  readonly labels: readonly string[];
  readonly maxLength: number;
  readonly options: Record<string, unknown>;
  /** Language of the data at hand, where known. */
  readonly language?: string;
}

/**
 * Extension point: a task (NLI, QA, NER, POS, ...). It reads its data sets, turns examples into features,
 * provides a head and loss, decodes logits into predictions and scores them the way the benchmark does.
 * Core knows nothing task-specific beyond this contract.
 */
export interface TaskPlugin<E = unknown, F extends Feature = Feature, P = unknown> extends Plugin {
  /** The metric that ranks checkpoints (source-dev selection, greedy soup), e.g. `accuracy` or `f1`. */
  readonly primaryMetric: string;
  /** Formats this task reads, first one the default. */
  readonly formats: readonly DatasetFormat[];
  /** Reads a data set; `.gz` files are gunzipped transparently. Malformed input is an {@link InputError}. */
  read(source: DatasetSource, options: Record<string, unknown>): Promise<E[]>;
  /** The label inventory for training, in a fixed order (NLI: fixed; NER: from the training set). */
  labelSpace(train: readonly E[], options: Record<string, unknown>): string[];
  /** Examples to features (one or more per example). */
  featurize(examples: readonly E[], tokenizer: Tokenizer, context: TaskContext): Promise<F[]>;
  /** Collates the targets of a batch padded to `sequenceLength`. */
  collate(features: readonly F[], sequenceLength: number, context: TaskContext): BatchTargets;
  /** Builds the head for an encoder. */
  createHead(context: HeadContext): TaskHead;
  /**
   * Turns the logits of each feature (the head's output for that row, padding removed from the leading
   * `[T]` axis where the output is per token) into one prediction per example.
   */
  decode(
    logits: readonly Float32Array[],
    features: readonly F[],
    examples: readonly E[],
    context: TaskContext,
  ): P[];
  /** Scores predictions against gold examples, as the benchmark's official script does. */
  score(examples: readonly E[], predictions: readonly P[], context: TaskContext): Metrics;
  /** Predictions as the text `xlt score --pred` reads. */
  formatPredictions(predictions: readonly P[], examples: readonly E[]): string;
  /** Parses a predictions file written by {@link formatPredictions} (or by another tool in the same format). */
  parsePredictions(text: string, file: string, examples: readonly E[]): P[];
}

/** Service identifier of {@link TaskPlugin}. */
export const TaskPlugin: unique symbol = Symbol.for('xlt.TaskPlugin');
