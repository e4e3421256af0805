import type { EncoderConfig, EncoderProvider, NamedTensors } from '@xlt/plugin-api';

/** An HF model folder read by {@link loadPretrained}, with every tensor under its canonical HF name. */
export interface PretrainedModel {
  /** The folder the model was read from (the cache folder for hub ids). */
  readonly folder: string;
  readonly config: EncoderConfig;
  readonly provider: EncoderProvider;
  /** Every name of `provider.parameterShapes(config)`, with the `bert.` / `roberta.` prefix. */
  readonly encoder: NamedTensors;
  /** `<prefix>pooler.dense.*` when the checkpoint has them (else empty): kept and saved back. */
  readonly pooler: NamedTensors;
  /** Task-head tensors of a fine-tuned folder (`classifier.weight`, `qa_outputs.bias`, ...), names as stored (legacy `LayerNorm.gamma` / `.beta` as `.weight` / `.bias`). */
  readonly head: NamedTensors;
  /** Tensors that were read past, names as stored: MLM and pretraining heads (`cls.*`, `lm_head.*`) and buffers such as `embeddings.position_ids`. */
  readonly ignored: readonly string[];
  /** Tokenizer files present in the folder, as paths, for {@link savePretrained} to copy. */
  readonly tokenizerFiles: readonly string[];
}
