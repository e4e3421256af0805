import type { EncoderConfig } from '@xlt/plugin-api';

/**
 * Names and shapes of every encoder parameter of a BERT-style model (BERT, RoBERTa, XLM-R share them), in the order
 * HF's `state_dict()` lists them. The pooler is not included: see {@link poolerShapes}.
 */
export function encoderParameterShapes(config: EncoderConfig, prefix: string): Map<string, readonly number[]> {
  const H = config.hiddenSize;
  const I = config.intermediateSize;
  const shapes = new Map<string, readonly number[]>();
  const e = `${prefix}embeddings.`;
  shapes.set(`${e}word_embeddings.weight`, [config.vocabSize, H]);
  shapes.set(`${e}position_embeddings.weight`, [config.maxPositionEmbeddings, H]);
  shapes.set(`${e}token_type_embeddings.weight`, [config.typeVocabSize, H]);
  shapes.set(`${e}LayerNorm.weight`, [H]);
  shapes.set(`${e}LayerNorm.bias`, [H]);
  for (let i = 0; i < config.numHiddenLayers; i++) {
    const l = `${prefix}encoder.layer.${i}.`;
    for (const p of ['query', 'key', 'value']) {
      shapes.set(`${l}attention.self.${p}.weight`, [H, H]);
      shapes.set(`${l}attention.self.${p}.bias`, [H]);
    }
    shapes.set(`${l}attention.output.dense.weight`, [H, H]);
    shapes.set(`${l}attention.output.dense.bias`, [H]);
    shapes.set(`${l}attention.output.LayerNorm.weight`, [H]);
    shapes.set(`${l}attention.output.LayerNorm.bias`, [H]);
    shapes.set(`${l}intermediate.dense.weight`, [I, H]);
    shapes.set(`${l}intermediate.dense.bias`, [I]);
    shapes.set(`${l}output.dense.weight`, [H, I]);
    shapes.set(`${l}output.dense.bias`, [H]);
    shapes.set(`${l}output.LayerNorm.weight`, [H]);
    shapes.set(`${l}output.LayerNorm.bias`, [H]);
  }
  return shapes;
}

/**
 * The pooler of HF's base model (`<prefix>pooler.dense.*`, tanh over the first token). It is optional in xlt:
 * loaded when a checkpoint has it, kept and saved back, and used only by heads that ask for it.
 */
export function poolerShapes(config: EncoderConfig, prefix: string): Map<string, readonly number[]> {
  const H = config.hiddenSize;
  return new Map<string, readonly number[]>([
    [`${prefix}pooler.dense.weight`, [H, H]],
    [`${prefix}pooler.dense.bias`, [H]],
  ]);
}

/** True for parameters AdamW must not decay: biases and LayerNorm weights, as in HF's `Trainer`. */
export function isNoDecayParameter(name: string): boolean {
  return name.endsWith('.bias') || name.includes('LayerNorm.') || name.includes('layer_norm.');
}
