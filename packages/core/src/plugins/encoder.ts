import type { Plugin } from './plugin.js';

/** A named float tensor held in memory, HF layout (row-major, `[out, in]` for linear weights). */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Parameters by HF name (`bert.encoder.layer.0.attention.self.query.weight`, `classifier.bias`, ...). */
export type NamedTensors = Map<string, HostTensor>;

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
  /** Validates a parsed `config.json`; errors name `file` and the JSON path. */
  parseConfig(raw: unknown, file: string): EncoderConfig;
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
