import { describe, expect, it } from 'vitest';
import { bertProvider } from '../encoders/bert-provider.js';
import { initEncoderParameters } from '../model/init-parameters.js';
import type { BackendProbe, EncodedBatch, TrainingBackend } from '@xlt/plugin-api';
import { selectBackend } from './select-backend.js';
import { tfjsBackends, tfjsCpuBackend, tfjsNodeBackend, tfjsNodeGpuBackend, tfjsWasmBackend } from './tfjs-backends.js';
import { loadTf } from './tfjs-loader.js';

const config = bertProvider.parseConfig(
  { model_type: 'bert', vocab_size: 40, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 16, hidden_dropout_prob: 0.2, attention_probs_dropout_prob: 0.2, initializer_range: 0.3 },
  'config.json',
);
const B = 2;
const T = 5;
const batch: EncodedBatch = {
  batchSize: B,
  sequenceLength: T,
  inputIds: new Int32Array([2, 7, 9, 11, 3, 2, 5, 3, 0, 0]),
  tokenTypeIds: new Int32Array([0, 0, 0, 1, 1, 0, 0, 0, 0, 0]),
  attentionMask: new Int32Array([1, 1, 1, 1, 1, 1, 1, 1, 0, 0]),
  positionIds: new Int32Array([0, 1, 2, 3, 4, 0, 1, 2, 3, 4]),
};

function fake(id: string, priority: number, probe: BackendProbe): TrainingBackend {
  return { id, description: id, priority, deterministic: true, probe: async () => probe, createEncoder: async () => { throw new Error('unused'); } };
}

describe('selectBackend', () => {
  it('takes the available backend with the highest priority and says which were skipped', async () => {
    const choice = await selectBackend(tfjsBackends);
    expect(choice.backend.id).toBe('tfjs-wasm');
    expect(choice.line).toBe(
      'backend: tfjs-wasm (TF.js wasm backend (SIMD, single thread)); unavailable: tfjs-node-gpu (@tensorflow/tfjs-node-gpu is not installed), tfjs-node (@tensorflow/tfjs-node is not installed)',
    );
    const loaded = await loadTf();
    expect(loaded.findBackend('wasm')).toBeTruthy();
  });

  it('probes the optional node bindings as "not installed" without throwing', async () => {
    expect(await tfjsNodeBackend.probe()).toEqual({ available: false, detail: '@tensorflow/tfjs-node is not installed' });
    expect(await tfjsNodeGpuBackend.probe()).toEqual({ available: false, detail: '@tensorflow/tfjs-node-gpu is not installed' });
    await expect(tfjsNodeBackend.createEncoder(config, bertProvider, new Map())).rejects.toThrow('Backend "tfjs-node" is not available: @tensorflow/tfjs-node is not installed');
  });

  it('honours a requested backend, and explains unknown or unavailable ones', async () => {
    const list = [fake('gpu', 100, { available: false, detail: 'no GPU' }), fake('slow', 1, { available: true, detail: 'ok' })];
    expect((await selectBackend(list)).line).toBe('backend: slow (ok); unavailable: gpu (no GPU)');
    expect((await selectBackend(tfjsBackends, 'tfjs-cpu')).backend).toBe(tfjsCpuBackend);
    await expect(selectBackend(list, 'gpu')).rejects.toThrow('Backend "gpu" is not available: no GPU.');
    await expect(selectBackend(list, 'tpu')).rejects.toThrow('Unknown backend "tpu". Known backend ids: gpu, slow.');
    await expect(selectBackend([fake('gpu', 1, { available: false, detail: 'no GPU' })])).rejects.toThrow('No backend is available: gpu (no GPU).');
  });
});

describe.each([tfjsCpuBackend, tfjsWasmBackend])('TF.js encoder runtime on $id', (backend) => {
  it('draws dropout from the seed: same seed same output, other seed or eval differs', async () => {
    const runtime = await backend.createEncoder(config, bertProvider, initEncoderParameters(config, bertProvider, 3));
    const a = await runtime.forward(batch, { training: true, dropoutSeed: 11 });
    const b = await runtime.forward(batch, { training: true, dropoutSeed: 11 });
    const c = await runtime.forward(batch, { training: true, dropoutSeed: 12 });
    const e = await runtime.forward(batch, { training: false });
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(e).not.toEqual(a);
    expect(a.length).toBe(B * T * 16);
    runtime.dispose();
  });

  it('backward replays the dropout of the last training forward, accumulates, scales and zeroes gradients', async () => {
    const runtime = await backend.createEncoder(config, bertProvider, initEncoderParameters(config, bertProvider, 3));
    const dHidden = Float32Array.from({ length: B * T * 16 }, (_, i) => Math.sin(i));
    await runtime.forward(batch, { training: true, dropoutSeed: 5 });
    await runtime.backward(dHidden);
    const once = new Map([...runtime.gradients()].map(([n, g]) => [n, g.data.slice()]));
    const norm = runtime.gradientSquaredNorm();
    expect(norm).toBeGreaterThan(0);
    await runtime.backward(dHidden);
    const q = 'bert.encoder.layer.1.attention.self.query.weight';
    expect(runtime.gradients().get(q)!.data[3]).toBeCloseTo(2 * once.get(q)![3]!, 5);
    runtime.scaleGradients(0.5);
    expect(runtime.gradientSquaredNorm()).toBeCloseTo(norm, 3);
    // Another seed gives another gradient: the masks are part of the computation.
    runtime.zeroGradients();
    expect(runtime.gradientSquaredNorm()).toBe(0);
    await runtime.forward(batch, { training: true, dropoutSeed: 6 });
    await runtime.backward(dHidden);
    expect(runtime.gradients().get(q)!.data).not.toEqual(once.get(q));
    // Padding rows of the word embedding and unused rows get no gradient.
    const word = runtime.gradients().get('bert.embeddings.word_embeddings.weight')!.data;
    expect(word.subarray(0, 16).every((x) => x === 0)).toBe(true);
    expect(word.subarray(7 * 16, 8 * 16).some((x) => x !== 0)).toBe(true);
    runtime.dispose();
  });

  it('backward with dropout is the derivative of the training forward with the same seed (finite differences)', async () => {
    const params = initEncoderParameters(config, bertProvider, 4);
    const runtime = await backend.createEncoder(config, bertProvider, params);
    const dHidden = Float32Array.from({ length: B * T * 16 }, (_, i) => Math.cos(i * 0.7));
    const loss = async () => (await runtime.forward(batch, { training: true, dropoutSeed: 21 })).reduce((s, h, i) => s + h * dHidden[i]!, 0);
    await runtime.forward(batch, { training: true, dropoutSeed: 21 });
    await runtime.backward(dHidden);
    const probes: [string, number][] = [['bert.embeddings.LayerNorm.bias', 3], ['bert.encoder.layer.0.intermediate.dense.bias', 5], ['bert.encoder.layer.1.attention.self.value.weight', 17], ['bert.embeddings.word_embeddings.weight', 7 * 16 + 2]];
    for (const [name, index] of probes) {
      const analytic = runtime.gradients().get(name)!.data[index]!;
      const p = runtime.parameters().get(name)!.data;
      const x = p[index]!;
      const eps = 1e-2;
      p[index] = x + eps;
      const up = await loss();
      runtime.parameters().get(name)!.data[index] = x - eps;
      const down = await loss();
      runtime.parameters().get(name)!.data[index] = x;
      const numeric = (up - down) / (2 * eps);
      expect(Math.abs(numeric - analytic), `${name}[${index}]: numeric ${numeric}, analytic ${analytic}`).toBeLessThan(2e-2 * Math.max(1, Math.abs(analytic)));
    }
    runtime.dispose();
  });

  it('rejects parameters that do not match the config and ids outside the vocabulary', async () => {
    const params = initEncoderParameters(config, bertProvider, 3);
    params.delete('bert.encoder.layer.1.output.dense.bias');
    await expect(backend.createEncoder(config, bertProvider, params)).rejects.toThrow('bert.encoder.layer.1.output.dense.bias: missing (expected shape [16])');
    const runtime = await backend.createEncoder(config, bertProvider, initEncoderParameters(config, bertProvider, 3));
    await expect(runtime.forward({ ...batch, inputIds: new Int32Array([2, 7, 99, 11, 3, 2, 5, 3, 0, 0]) }, { training: false })).rejects.toThrow(
      'Batch row 0, token 2: token id 99 is outside [0, 40) (config vocab_size = 40).',
    );
  });
});

describe('wasm fixes', () => {
  it('gives tf.gather a gradient on wasm (UnsortedSegmentSum over ScatterNd), equal to cpu', async () => {
    await tfjsWasmBackend.probe();
    const tf = await loadTf();
    const run = async (name: string) => {
      await tf.setBackend(name);
      const table = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
      const g = tf.grad((t: import('@tensorflow/tfjs').Tensor) => tf.sum(tf.mul(tf.gather(t, tf.tensor1d([2, 0, 2], 'int32')), tf.tensor2d([[1, 2], [3, 4], [5, 6]]))))(table);
      return g.arraySync();
    };
    expect(await run('wasm')).toEqual([[3, 4], [0, 0], [6, 8]]);
    expect(await run('cpu')).toEqual([[3, 4], [0, 0], [6, 8]]);
  });
});
