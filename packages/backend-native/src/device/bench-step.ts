import type { EncodedBatch, EncoderConfig, NamedTensors, TrainingBackend } from '@xlt/plugin-api';
import { tinyProvider } from '../testing/tiny-models.js';

/** One benchmark shape of the device check. */
export interface DeviceBenchShape {
  readonly name: string;
  readonly modelType: 'bert' | 'xlm-roberta';
  readonly layers: number;
  readonly hidden: number;
  readonly heads: number;
  readonly ffn: number;
  readonly vocab: number;
  readonly maxPos: number;
  readonly batch: number;
  readonly seq: number;
}

/** XLM-R base and mBERT base at the batch of 32 x 128, and a small shape for dry runs without a GPU. */
export const DEVICE_BENCH_SHAPES: Readonly<Record<string, DeviceBenchShape>> = {
  'xlmr-base': { name: 'xlmr-base', modelType: 'xlm-roberta', layers: 12, hidden: 768, heads: 12, ffn: 3072, vocab: 250002, maxPos: 514, batch: 32, seq: 128 },
  'mbert-base': { name: 'mbert-base', modelType: 'bert', layers: 12, hidden: 768, heads: 12, ffn: 3072, vocab: 119547, maxPos: 512, batch: 32, seq: 128 },
  small: { name: 'small', modelType: 'bert', layers: 2, hidden: 64, heads: 4, ffn: 128, vocab: 500, maxPos: 64, batch: 2, seq: 16 },
};

/**
 * Model FLOPs of one training step (forward and backward, 3x the forward's): the layers' matrix products, 6 x their
 * weights x tokens, plus attention's two T x T products per layer (PaLM's MFU convention, embeddings excluded).
 */
export function stepFlops(s: DeviceBenchShape): number {
  const tokens = s.batch * s.seq;
  const weights = s.layers * (4 * s.hidden * s.hidden + 2 * s.hidden * s.ffn);
  return 6 * weights * tokens + 12 * s.layers * s.batch * s.seq * s.seq * s.hidden;
}

/** The config of a shape (HF field meanings; dropout 0.1 as in fine-tuning). */
export function benchConfig(s: DeviceBenchShape): EncoderConfig {
  const roberta = s.modelType === 'xlm-roberta';
  return {
    modelType: s.modelType, vocabSize: s.vocab, hiddenSize: s.hidden, numHiddenLayers: s.layers, numAttentionHeads: s.heads,
    intermediateSize: s.ffn, hiddenAct: 'gelu', hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1, maxPositionEmbeddings: s.maxPos,
    typeVocabSize: roberta ? 1 : 2, layerNormEps: roberta ? 1e-5 : 1e-12, padTokenId: roberta ? 1 : 0, initializerRange: 0.02, raw: {},
  };
}

function xorshift(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296 - 0.5;
  };
}

/**
 * Times the encoder training step on `backend` as `torch_step.py` does on PyTorch: zero gradients, training forward
 * (dropout), backward of sum(hidden * dHidden) for a fixed dHidden, clipping at global norm 1, AdamW. Returns the
 * mean milliseconds per step over `iters` steps after `warmup`; the clock stops after a call that waits for the GPU
 * (the gradient norm), so queued work is counted.
 */
export async function timeEncoderStep(backend: TrainingBackend, s: DeviceBenchShape, warmup: number, iters: number): Promise<{ ms: number }> {
  const config = benchConfig(s);
  const provider = tinyProvider(s.modelType);
  const rand = xorshift(0x12345);
  const params: NamedTensors = new Map();
  for (const [name, shape] of provider.parameterShapes(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name.endsWith('LayerNorm.weight')) data.fill(1);
    else if (!name.endsWith('.bias')) for (let i = 0; i < data.length; i++) data[i] = rand() * 0.0693;
    params.set(name, { shape, data });
  }
  const runtime = await backend.createEncoder(config, provider, params);
  params.clear();
  const N = s.batch * s.seq;
  const inputIds = Int32Array.from({ length: N }, () => 2 + Math.floor((rand() + 0.5) * (s.vocab - 3)));
  const positionIds = Int32Array.from({ length: N }, (_, i) => (s.modelType === 'bert' ? i % s.seq : 2 + (i % s.seq)));
  const batch: EncodedBatch = { batchSize: s.batch, sequenceLength: s.seq, inputIds, tokenTypeIds: new Int32Array(N), attentionMask: new Int32Array(N).fill(1), positionIds };
  const dHidden = Float32Array.from({ length: N * s.hidden }, () => rand() * 2e-3);
  const noDecay = new Set([...provider.parameterShapes(config).keys()].filter((n) => n.endsWith('.bias') || n.includes('LayerNorm.')));
  const step = async (i: number) => {
    runtime.zeroGradients();
    await runtime.forward(batch, { training: true, dropoutSeed: i });
    await runtime.backward(dHidden);
    const norm = Math.sqrt(runtime.gradientSquaredNorm());
    if (norm > 1) runtime.scaleGradients(1 / norm);
    runtime.adamw({ learningRate: 5e-5, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, step: i + 1, noDecay });
  };
  try {
    for (let i = 0; i < warmup; i++) await step(i);
    runtime.gradientSquaredNorm();
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) await step(warmup + i);
    runtime.gradientSquaredNorm();
    return { ms: (performance.now() - t0) / iters };
  } finally {
    runtime.dispose();
  }
}
