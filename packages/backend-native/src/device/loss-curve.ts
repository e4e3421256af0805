import type { EncodedBatch, EncoderConfig, EncoderProvider, NamedTensors, TrainingBackend } from '@xlt/plugin-api';
import { normalSampler, seededRandom } from '@xlt/plugin-api';
import { tinyProvider } from '../testing/tiny-models.js';

/** The small fine-tune of the device check: a 2-layer BERT, width 64, dropout 0.1, batches of 8 x 16. */
export const LOSS_CURVE_CONFIG: EncoderConfig = {
  modelType: 'bert', vocabSize: 100, hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 256,
  hiddenAct: 'gelu', hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1, maxPositionEmbeddings: 32, typeVocabSize: 2,
  layerNormEps: 1e-12, padTokenId: 0, initializerRange: 0.02, raw: {},
};

const CLASSES = 4;
const BATCH = 8;
const SEQ = 16;

function batchAt(step: number): { batch: EncodedBatch; labels: Int32Array } {
  const rand = seededRandom(1000 + step);
  const N = BATCH * SEQ;
  const inputIds = new Int32Array(N), tokenTypeIds = new Int32Array(N), attentionMask = new Int32Array(N), positionIds = new Int32Array(N);
  const labels = new Int32Array(BATCH);
  for (let b = 0; b < BATCH; b++) {
    const len = 4 + Math.floor(rand() * (SEQ - 3));
    for (let t = 0; t < SEQ; t++) {
      const i = b * SEQ + t;
      attentionMask[i] = t < len ? 1 : 0;
      inputIds[i] = t < len ? 1 + Math.floor(rand() * (LOSS_CURVE_CONFIG.vocabSize - 1)) : 0;
      positionIds[i] = t;
    }
    // The label is a function of the first token, read off the first position's hidden state.
    labels[b] = inputIds[b * SEQ]! % CLASSES;
  }
  return { batch: { batchSize: BATCH, sequenceLength: SEQ, inputIds, tokenTypeIds, attentionMask, positionIds }, labels };
}

/** BERT's initialisation: weights normal with std `initializer_range`, LayerNorm weights 1, biases 0. */
function initialParameters(config: EncoderConfig, provider: EncoderProvider, seed: number): NamedTensors {
  const normal = normalSampler(seededRandom(seed));
  const out: NamedTensors = new Map();
  for (const [name, shape] of provider.parameterShapes(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name.endsWith('LayerNorm.weight')) data.fill(1);
    else if (!name.endsWith('.bias')) for (let i = 0; i < data.length; i++) data[i] = config.initializerRange * normal();
    out.set(name, { shape, data });
  }
  return out;
}

/**
 * Trains the small fine-tune for `steps` AdamW steps on `backend` and returns the loss of every step: cross-entropy
 * of a fixed random projection of the first token's hidden state to 4 classes. Data, dropout seeds and the initial
 * weights are the same on every backend, so the curves of two backends differ only by their arithmetic.
 */
export async function lossCurve(backend: TrainingBackend, steps: number): Promise<number[]> {
  const provider = tinyProvider('bert');
  const config = LOSS_CURVE_CONFIG;
  const H = config.hiddenSize;
  const runtime = await backend.createEncoder(config, provider, initialParameters(config, provider, 7));
  const rand = seededRandom(99);
  const head = Float64Array.from({ length: H * CLASSES }, () => (rand() * 2 - 1) * 0.1);
  const noDecay = new Set([...provider.parameterShapes(config).keys()].filter((n) => n.endsWith('.bias') || n.includes('LayerNorm.')));
  const losses: number[] = [];
  try {
    for (let s = 0; s < steps; s++) {
      const { batch, labels } = batchAt(s);
      runtime.zeroGradients();
      const hidden = await runtime.forward(batch, { training: true, dropoutSeed: 5000 + s });
      const dHidden = new Float32Array(hidden.length);
      let loss = 0;
      for (let b = 0; b < BATCH; b++) {
        const h = hidden.subarray(b * SEQ * H, b * SEQ * H + H);
        const logits = new Float64Array(CLASSES);
        for (let c = 0; c < CLASSES; c++) for (let j = 0; j < H; j++) logits[c] += h[j]! * head[j * CLASSES + c]!;
        const max = Math.max(...logits);
        const exp = logits.map((x) => Math.exp(x - max));
        const sum = exp.reduce((a, x) => a + x, 0);
        loss -= Math.log(exp[labels[b]!]! / sum) / BATCH;
        for (let c = 0; c < CLASSES; c++) {
          const g = (exp[c]! / sum - (c === labels[b] ? 1 : 0)) / BATCH;
          for (let j = 0; j < H; j++) dHidden[b * SEQ * H + j] += g * head[j * CLASSES + c]!;
        }
      }
      await runtime.backward(dHidden);
      const norm = Math.sqrt(runtime.gradientSquaredNorm());
      if (norm > 1) runtime.scaleGradients(1 / norm);
      runtime.adamw({ learningRate: 2e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, step: s + 1, noDecay });
      losses.push(loss);
    }
  } finally {
    runtime.dispose();
  }
  return losses;
}

/** How far two loss curves are apart: the largest per-step difference and the difference of the last 50 steps' means. */
export function compareCurves(ours: readonly number[], reference: readonly number[]): { maxStep: number; meanLast50: number } {
  if (ours.length !== reference.length) throw new Error(`loss curves of ${ours.length} and ${reference.length} steps`);
  let maxStep = 0;
  for (let i = 0; i < ours.length; i++) maxStep = Math.max(maxStep, Math.abs(ours[i]! - reference[i]!));
  const tail = (xs: readonly number[]) => xs.slice(-50).reduce((a, x) => a + x, 0) / Math.min(50, xs.length);
  return { maxStep, meanLast50: Math.abs(tail(ours) - tail(reference)) };
}
