import { describe, expect, test } from 'vitest';
import { xlmRobertaProvider } from '@xlt/core';
import { type EncoderConfig, type EncoderProvider, type EncoderRuntime, type NamedTensors } from '@xlt/plugin-api';
import { loadAddon } from './addon.js';
import { NativeBackend } from './native-backend.js';
import { randomParameters, seededRandom, tinyBatch, tinyConfig } from './testing/tiny-models.js';

/**
 * A RoBERTa-style encoder under a model type nobody hard-codes: everything architecture-specific is delegated to
 * core's XLM-R provider, so the native backend must take its position handling from the provider, not the name.
 */
const myRoberta: EncoderProvider = {
  id: 'my-roberta',
  description: 'test: a RoBERTa-like encoder under a new model type',
  modelTypes: ['my-roberta'],
  parameterPrefix: xlmRobertaProvider.parameterPrefix,
  parseConfig: (raw, file) => ({ ...xlmRobertaProvider.parseConfig({ ...(raw as object), model_type: 'xlm-roberta' }, file), modelType: 'my-roberta' }),
  parameterShapes: (c) => xlmRobertaProvider.parameterShapes(c),
  positionIds: (ids, c) => xlmRobertaProvider.positionIds(ids, c),
  positionPaddingIdx: (c) => xlmRobertaProvider.positionPaddingIdx(c),
};

function requireAddon(): void {
  const load = loadAddon();
  if (!load.addon) throw new Error(`${load.reason}. Build it with \`npm run build:addon -w @xlt/backend-native\` (needs g++ and libopenblas-dev).`);
}

/** Hidden states of an eval and a training forward, then the gradients of sum(hidden * R). */
async function run(runtime: EncoderRuntime, config: EncoderConfig, provider: EncoderProvider): Promise<{ hidden: Float32Array; trained: Float32Array; gradients: NamedTensors }> {
  const rand = seededRandom(21);
  const batch = tinyBatch(config, provider, rand, [9, 4, 2], 9);
  const hidden = await runtime.forward(batch, { training: false });
  const trained = await runtime.forward(batch, { training: true, dropoutSeed: 3 });
  await runtime.backward(Float32Array.from({ length: trained.length }, () => rand() * 2 - 1));
  const gradients: NamedTensors = new Map([...runtime.gradients()].map(([n, t]) => [n, { shape: t.shape, data: t.data.slice() }]));
  return { hidden, trained, gradients };
}

describe('native backend takes position handling from the encoder provider', () => {
  test("a provider with a made-up model type ('my-roberta') pads positions exactly as xlm-roberta", async () => {
    requireAddon();
    const xlmr = tinyConfig('xlm-roberta', { dropout: 0.1 });
    const mine: EncoderConfig = { ...xlmr, modelType: 'my-roberta' };
    const params = randomParameters(xlmr, xlmRobertaProvider, 5);
    const backend = new NativeBackend();
    const a = await backend.createEncoder(xlmr, xlmRobertaProvider, params);
    const b = await backend.createEncoder(mine, myRoberta, params);
    try {
      const ra = await run(a, xlmr, xlmRobertaProvider);
      const rb = await run(b, mine, myRoberta);
      expect(rb.hidden).toEqual(ra.hidden);
      expect(rb.trained).toEqual(ra.trained);
      for (const [name, g] of ra.gradients) expect(rb.gradients.get(name)!.data, name).toEqual(g.data);
      // The padding row (HF `padding_idx`) gets no gradient although the padded rows above feed it: without the
      // provider's `positionPaddingIdx` it would, as for BERT.
      const pad = xlmRobertaProvider.positionPaddingIdx(xlmr);
      const positions = rb.gradients.get('roberta.embeddings.position_embeddings.weight')!.data;
      const H = xlmr.hiddenSize;
      expect([...positions.subarray(pad * H, (pad + 1) * H)].every((x) => x === 0)).toBe(true);
      expect([...positions.subarray((pad + 1) * H, (pad + 2) * H)].some((x) => x !== 0)).toBe(true);
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});
