import { describe, expect, it } from 'vitest';
import { InputError } from '@xlt/plugin-api';
import { bertProvider } from './bert-provider.js';
import { findEncoderProvider } from './find-provider.js';
import { isNoDecayParameter, poolerShapes } from './parameter-shapes.js';
import { xlmRobertaProvider } from './xlm-roberta-provider.js';

const bertJson = {
  model_type: 'bert',
  vocab_size: 119547,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  hidden_act: 'gelu',
  architectures: ['BertForMaskedLM'],
};

describe('encoder providers', () => {
  it('parses an mBERT config, with HF defaults for absent optional fields and raw kept', () => {
    const c = bertProvider.parseConfig(bertJson, 'config.json');
    expect(c).toMatchObject({ modelType: 'bert', vocabSize: 119547, hiddenSize: 768, layerNormEps: 1e-12, padTokenId: 0, hiddenDropoutProb: 0.1, initializerRange: 0.02 });
    expect(c.raw['architectures']).toEqual(['BertForMaskedLM']);
  });

  it('lists every HF parameter name and shape of mBERT-base (177.9 M parameters with the pooler)', () => {
    const c = bertProvider.parseConfig(bertJson, 'config.json');
    const shapes = bertProvider.parameterShapes(c);
    expect(shapes.size).toBe(5 + 12 * 16);
    expect(shapes.get('bert.embeddings.word_embeddings.weight')).toEqual([119547, 768]);
    expect(shapes.get('bert.encoder.layer.11.intermediate.dense.weight')).toEqual([3072, 768]);
    expect(shapes.get('bert.encoder.layer.11.output.dense.weight')).toEqual([768, 3072]);
    expect(shapes.has('bert.encoder.layer.0.attention.output.LayerNorm.bias')).toBe(true);
    let total = 0;
    for (const s of [...shapes.values(), ...poolerShapes(c, 'bert.').values()]) total += s.reduce((a, b) => a * b, 1);
    expect(total).toBe(177853440); // bert-base-multilingual-cased, as HF's num_parameters() reports
  });

  it('reports every missing or mistyped field by JSON path, with the file', () => {
    const bad = { ...bertJson, hidden_size: '768', num_hidden_layers: 2.5, vocab_size: undefined };
    let error: InputError | undefined;
    try {
      bertProvider.parseConfig(bad, 'm/config.json');
    } catch (e) {
      error = e as InputError;
    }
    expect(error).toBeInstanceOf(InputError);
    expect(error!.issues.map((i) => i.path)).toEqual(['vocab_size', 'hidden_size', 'num_hidden_layers']);
    expect(error!.message).toContain('m/config.json at hidden_size: expected a positive integer, found "768"');
    expect(error!.message).toContain('m/config.json at vocab_size: expected a positive integer, found nothing (the field is missing)');
  });

  it('rejects heads that do not divide the hidden size, unknown activations and relative positions', () => {
    expect(() => bertProvider.parseConfig({ ...bertJson, num_attention_heads: 7 }, 'c.json')).toThrow('num_attention_heads: expected a divisor of hidden_size 768, found number 7');
    expect(() => bertProvider.parseConfig({ ...bertJson, hidden_act: 'swish' }, 'c.json')).toThrow('hidden_act: expected one of "gelu"');
    expect(() => bertProvider.parseConfig({ ...bertJson, position_embedding_type: 'relative_key' }, 'c.json')).toThrow('position_embedding_type');
    expect(() => bertProvider.parseConfig({ ...bertJson, model_type: 'roberta' }, 'c.json')).toThrow('model_type: expected one of "bert", found "roberta"');
  });

  it('gives RoBERTa positions from pad_token_id + 1 over real tokens and pads the pad id', () => {
    const c = xlmRobertaProvider.parseConfig({ ...bertJson, model_type: 'xlm-roberta', max_position_embeddings: 514, type_vocab_size: 1, pad_token_id: 1 }, 'c.json');
    expect(xlmRobertaProvider.positionIds([0, 581, 9, 2, 1, 1], c)).toEqual([2, 3, 4, 5, 1, 1]);
    expect(bertProvider.positionIds([101, 7, 102, 0])).toEqual([0, 1, 2, 3]);
    expect(xlmRobertaProvider.parameterShapes(c).get('roberta.embeddings.token_type_embeddings.weight')).toEqual([1, 768]);
    expect(xlmRobertaProvider.parseConfig({ ...bertJson, model_type: 'roberta', max_position_embeddings: 514 }, 'c.json').layerNormEps).toBe(1e-5);
  });

  it('finds the provider by model_type and lists the known ones otherwise', () => {
    const providers = [bertProvider, xlmRobertaProvider];
    expect(findEncoderProvider({ model_type: 'roberta' }, 'c.json', providers)).toBe(xlmRobertaProvider);
    expect(() => findEncoderProvider({ model_type: 'gpt2' }, 'x/config.json', providers)).toThrow(
      'x/config.json at model_type: expected a model type with an encoder: one of "bert" (bert), "xlm-roberta" (xlm-roberta), "roberta" (xlm-roberta), found "gpt2"',
    );
  });

  it('exempts biases and LayerNorm weights from weight decay', () => {
    expect(isNoDecayParameter('bert.encoder.layer.0.output.LayerNorm.weight')).toBe(true);
    expect(isNoDecayParameter('classifier.bias')).toBe(true);
    expect(isNoDecayParameter('bert.encoder.layer.0.output.dense.weight')).toBe(false);
  });
});
