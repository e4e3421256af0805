import type { Plugin } from './plugin.js';

/** A named float tensor held in memory, HF layout (row-major, `[out, in]` for linear weights). */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Parameters by HF name (`bert.encoder.layer.0.attention.self.query.weight`, `classifier.bias`, ...). */
export type NamedTensors = Map<string, HostTensor>;

/**
 * How `transformers` builds an architecture's sequence-classification head:
 * - `pooler-classifier`: BERT's (`BertForSequenceClassification`): the tanh pooler over the first token
 *   (`<prefix>pooler.dense.*`, shipped with the pretrained encoder), dropout, then `classifier`.
 * - `dense-out-proj`: RoBERTa's (`RobertaClassificationHead`): `classifier.dense`, tanh, then `classifier.out_proj`;
 *   the pretrained pooler is not used.
 */
export type ClassificationHeadStyle = 'pooler-classifier' | 'dense-out-proj';

/**
 * What `transformers` calls an encoder's task models and how it builds their heads. Encoder providers say it, so
 * that task heads and saved folders need no `model_type` strings of their own.
 */
export interface EncoderArchitecture {
  /** Prefix of HF class names: `Bert` (`BertForTokenClassification`), `XLMRoberta`, `Roberta`. */
  readonly classPrefix: string;
  /** Prefix of encoder parameters inside task models, as {@link EncoderProvider.parameterPrefix}: `bert.`, `roberta.`. */
  readonly parameterPrefix: string;
  readonly classificationHead: ClassificationHeadStyle;
}

/** The fields of an HF `config.json` that an encoder needs, validated; `raw` keeps the file as read. */
export interface EncoderConfig {
  /** HF `model_type`: `bert`, `xlm-roberta`, `roberta`. */
  readonly modelType: string;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly numHiddenLayers: number;
  readonly numAttentionHeads: number;
  readonly intermediateSize: number;
  /** Activation in the feed-forward block; `gelu` is the exact (erf) form as in HF. */
  readonly hiddenAct: string;
  readonly hiddenDropoutProb: number;
  readonly attentionProbsDropoutProb: number;
  readonly maxPositionEmbeddings: number;
  readonly typeVocabSize: number;
  readonly layerNormEps: number;
  readonly padTokenId: number;
  readonly initializerRange: number;
  /** The whole `config.json`, so that saving writes back every field, including ones xlt does not use. */
  readonly raw: Readonly<Record<string, unknown>>;
  /**
   * Set by the provider that parsed the config ({@link EncoderProvider.architecture}); absent on configs built by
   * hand, which then cannot name their task class or build a classification head that depends on it.
   */
  readonly architecture?: EncoderArchitecture;
}

/**
 * Extension point: an encoder architecture (BERT, XLM-R/RoBERTa). It owns what differs between architectures:
 * config validation, parameter names and shapes, and position ids; the training backend does the arithmetic.
 */
export interface EncoderProvider extends Plugin {
  /** HF `model_type` values this provider reads. */
  readonly modelTypes: readonly string[];
  /** Prefix of encoder parameters inside HF task models: `bert.` or `roberta.`. */
  readonly parameterPrefix: string;
  /**
   * Validates a parsed `config.json`; errors name `file` and the JSON path. The result carries
   * {@link EncoderConfig.architecture} when the provider has {@link architecture}.
   */
  parseConfig(raw: unknown, file: string): EncoderConfig;
  /**
   * HF class prefix and head conventions of one of {@link modelTypes} (XLM-R and RoBERTa share an encoder but not
   * a class name). Optional so that providers written before it still load; their folders get no `architectures`.
   */
  architecture?(modelType: string): EncoderArchitecture;
  /** Every encoder parameter (with {@link parameterPrefix}) and its shape. */
  parameterShapes(config: EncoderConfig): Map<string, readonly number[]>;
  /** Position ids of one padded row (RoBERTa counts from `padTokenId + 1` and gives pads `padTokenId`). */
  positionIds(inputIds: readonly number[], config: EncoderConfig): number[];
  /**
   * The position-embedding row that padding uses and that never receives a gradient (RoBERTa's `padding_idx`),
   * or undefined when every row trains (BERT).
   */
  positionPaddingIdx?(config: EncoderConfig): number | undefined;
}

/** Service identifier of {@link EncoderProvider}. */
export const EncoderProvider: unique symbol = Symbol.for('xlt.EncoderProvider');
