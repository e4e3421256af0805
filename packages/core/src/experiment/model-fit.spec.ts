import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AveragingStrategy, createEngine, TaskPlugin, type Engine } from '@xlt/plugin-api';
import { tempDir, whitespaceTokenizer } from '@xlt/plugin-api/testing';
import { ContainerModule } from 'inversify';
import { coreModule } from '../core-module.js';
import { bertProvider } from '../encoders/bert-provider.js';
import { xlmRobertaProvider } from '../encoders/xlm-roberta-provider.js';
import { engineServices } from './engine-services.js';
import { checkModelFits, longestInput } from './model-fit.js';
import { runExperiment } from './runner.js';
import { tinyTextTask, writeTinyTextExperiment } from './testing/tiny-text-task.js';
import { toyStrategies } from './testing/toy-strategies.js';

const raw = (modelType: string, maxPositions: number, padTokenId: number) => ({
  model_type: modelType, vocab_size: 100, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16,
  hidden_act: 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, max_position_embeddings: maxPositions,
  type_vocab_size: 1, layer_norm_eps: 1e-5, pad_token_id: padTokenId, initializer_range: 0.02,
});

describe('whether a model can take an input', () => {
  it('finds the longest input from the provider: every row for BERT, two rows fewer for XLM-R (positions start after padding)', () => {
    const bert = { config: bertProvider.parseConfig(raw('bert', 512, 0), 'bert'), provider: bertProvider };
    const xlmr = { config: xlmRobertaProvider.parseConfig(raw('xlm-roberta', 514, 1), 'xlmr'), provider: xlmRobertaProvider };
    expect([longestInput(bert, 512), longestInput(bert, 600), longestInput(bert, 100)]).toEqual([512, 512, 100]);
    expect([longestInput(xlmr, 512), longestInput(xlmr, 513), longestInput(xlmr, 600)]).toEqual([512, 512, 512]);
  });

  it('names the setting, the model file and the limit for a length too long and for a tokenizer larger than the vocabulary', () => {
    const model = { config: xlmRobertaProvider.parseConfig(raw('xlm-roberta', 514, 1), 'xlmr'), provider: xlmRobertaProvider, folder: '/models/xlmr' };
    const small = { ...whitespaceTokenizer({ vocabSize: 100 }) };
    expect(() => checkModelFits(model, small, 512, 'training.maxLength')).not.toThrow();
    expect(() => checkModelFits(model, small, 513, 'training.maxLength')).toThrow(/training\.maxLength is 513, but \/models\/xlmr\/config\.json allows inputs of at most 512 tokens \(max_position_embeddings 514/);
    expect(() => checkModelFits(model, whitespaceTokenizer({ vocabSize: 250 }), 128, 'training.maxLength')).toThrow(/has 250 ids, but \/models\/xlmr\/config\.json has vocab_size 100/);
  });
});

describe('xlt run refuses settings the model or data cannot take before it trains anything', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let engine: Engine;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('xlt-model-fit-'));
    engine = await createEngine([
      coreModule,
      new ContainerModule(({ bind }) => {
        bind(TaskPlugin).toConstantValue(tinyTextTask);
        bind(AveragingStrategy).toConstantValue(toyStrategies.find((s) => s.id === 'last')!);
      }),
    ]);
  });
  afterAll(() => cleanup());

  const run = async (name: string, overrides: Record<string, unknown>) => {
    const config = await writeTinyTextExperiment(join(dir, name), { strategies: ['last'], ...overrides });
    return runExperiment(config, { engine, services: engineServices(engine, { log: () => {} }), out: join(dir, name, 'out'), print: () => {}, stderr: () => {} });
  };

  it('a maximum length past the position embeddings (the tiny model has 64)', async () => {
    await expect(run('long', { training: { maxLength: 100, evalBatchSize: 16 } })).rejects.toThrow(/training\.maxLength is 100, but .*config\.json allows inputs of at most 64 tokens/);
    expect(existsSync(join(dir, 'long', 'out', 'head', 'head.safetensors')) || existsSync(join(dir, 'long', 'out', 'runs'))).toBe(false);
  });

  it('gradient accumulation over more batches than an epoch has', async () => {
    // 24 examples in batches of 8: 3 batches an epoch
    await expect(run('accumulation', { training: { maxLength: 16, evalBatchSize: 16, gradientAccumulation: 4 } })).rejects.toThrow(/gradientAccumulation is 4, but an epoch of run \S+ \(24 training features in batches of 8\) has 3 batches/);
  });
});
