import { type EncoderConfig, type EncoderProvider, type NamedTensors, normalSampler, seededRandom } from '@xlt/plugin-api';

/** The plugin API's seeded generator and the conformance suite's random batch, re-exported for the fixtures' callers. */
export { seededRandom };
export { randomBatch as tinyBatch } from '@xlt/plugin-api/testing';

/** A tiny BERT (`bert`) or XLM-R (`xlm-roberta`) config with the given dropout. */
export function tinyConfig(modelType: 'bert' | 'xlm-roberta', options: { layers?: number; dropout?: number } = {}): EncoderConfig {
  const roberta = modelType === 'xlm-roberta';
  return {
    modelType,
    vocabSize: 40,
    hiddenSize: 32,
    numHiddenLayers: options.layers ?? 2,
    numAttentionHeads: 4,
    intermediateSize: 64,
    hiddenAct: 'gelu',
    hiddenDropoutProb: options.dropout ?? 0,
    attentionProbsDropoutProb: options.dropout ?? 0,
    maxPositionEmbeddings: roberta ? 12 : 16,
    typeVocabSize: roberta ? 1 : 2,
    layerNormEps: roberta ? 1e-5 : 1e-12,
    padTokenId: roberta ? 1 : 0,
    initializerRange: 0.02,
    raw: {},
  };
}

const LAYER_SHAPES = (H: number, I: number): [string, number[]][] => [
  ['attention.self.query.weight', [H, H]], ['attention.self.query.bias', [H]],
  ['attention.self.key.weight', [H, H]], ['attention.self.key.bias', [H]],
  ['attention.self.value.weight', [H, H]], ['attention.self.value.bias', [H]],
  ['attention.output.dense.weight', [H, H]], ['attention.output.dense.bias', [H]],
  ['attention.output.LayerNorm.weight', [H]], ['attention.output.LayerNorm.bias', [H]],
  ['intermediate.dense.weight', [I, H]], ['intermediate.dense.bias', [I]],
  ['output.dense.weight', [H, I]], ['output.dense.bias', [H]],
  ['output.LayerNorm.weight', [H]], ['output.LayerNorm.bias', [H]],
];

/**
 * A test provider with HF's parameter names (`bert.` or `roberta.` prefix) and position ids (RoBERTa counts from
 * `pad + 1` over non-pad tokens), independent of core's providers so this package's tests pin the HF contract.
 */
export function tinyProvider(modelType: 'bert' | 'xlm-roberta'): EncoderProvider {
  const prefix = modelType === 'bert' ? 'bert.' : 'roberta.';
  return {
    id: modelType,
    description: `test ${modelType}`,
    modelTypes: [modelType],
    parameterPrefix: prefix,
    parseConfig: () => {
      throw new Error('not used');
    },
    parameterShapes(c) {
      const H = c.hiddenSize;
      const m = new Map<string, readonly number[]>([
        [`${prefix}embeddings.word_embeddings.weight`, [c.vocabSize, H]],
        [`${prefix}embeddings.position_embeddings.weight`, [c.maxPositionEmbeddings, H]],
        [`${prefix}embeddings.token_type_embeddings.weight`, [c.typeVocabSize, H]],
        [`${prefix}embeddings.LayerNorm.weight`, [H]],
        [`${prefix}embeddings.LayerNorm.bias`, [H]],
      ]);
      for (let i = 0; i < c.numHiddenLayers; i++) for (const [n, s] of LAYER_SHAPES(H, c.intermediateSize)) m.set(`${prefix}encoder.layer.${i}.${n}`, s);
      return m;
    },
    // RoBERTa's position row `padding_idx = pad` gets no gradient; BERT's every row trains.
    ...(modelType === 'bert' ? {} : { positionPaddingIdx: (c: EncoderConfig) => c.padTokenId }),
    positionIds(ids, c) {
      if (modelType === 'bert') return ids.map((_, i) => i);
      let count = 0;
      return ids.map((id) => (id === c.padTokenId ? c.padTokenId : ++count + c.padTokenId));
    },
  };
}

/** Random parameters with large enough spread that every gradient is far from zero. */
export function randomParameters(config: EncoderConfig, provider: EncoderProvider, seed: number): NamedTensors {
  const normal = normalSampler(seededRandom(seed));
  const out: NamedTensors = new Map();
  for (const [name, shape] of provider.parameterShapes(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const isLnWeight = name.endsWith('LayerNorm.weight');
    for (let i = 0; i < data.length; i++) data[i] = isLnWeight ? 1 + 0.1 * normal() : 0.2 * normal();
    out.set(name, { shape, data });
  }
  return out;
}
