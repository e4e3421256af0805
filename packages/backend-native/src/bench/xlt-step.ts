/**
 * Child process of the benchmark: times xlt's native training step (zero grads, forward with dropout, token
 * classification loss, backward, AdamW) and eval forward on one shape, like `torch_encoder_step.py`, and prints
 * one JSON line with medians and this process's peak RSS. Usage: `node xlt-step.js '<BenchShape JSON>' warmup iters threads`.
 */
import type { AdamWStep, EncodedBatch } from '@xlt/plugin-api';
import { loadAddon } from '../addon.js';
import { arenaLayout } from '../layout.js';
import { nativeShape } from '../native-backend.js';
import { NativeEncoderRuntime } from '../native-encoder-runtime.js';
import { seededRandom, tinyProvider } from '../testing/tiny-models.js';
import type { BenchShape } from './sizes.js';
import { summary } from './stats.js';
import { BenchTokenClassifier } from './token-classifier.js';

function batchOf(s: BenchShape, rand: () => number): { batch: EncodedBatch; labels: Int32Array } {
  const B = s.batch, T = s.seq, N = B * T;
  const inputIds = new Int32Array(N), tokenTypeIds = new Int32Array(N), attentionMask = new Int32Array(N), positionIds = new Int32Array(N), labels = new Int32Array(N);
  for (let b = 0; b < B; b++) {
    const lo = Math.max(2, Math.floor(T / 2));
    const len = lo + Math.floor(rand() * (T - lo + 1));
    for (let t = 0; t < T; t++) {
      const i = b * T + t, real = t < len;
      attentionMask[i] = real ? 1 : 0;
      inputIds[i] = real ? 1 + Math.floor(rand() * (s.vocab - 1)) : 0;
      tokenTypeIds[i] = real && t >= Math.floor(len / 2) ? 1 : 0;
      positionIds[i] = t;
      labels[i] = real ? Math.floor(rand() * s.labels) : -1;
    }
  }
  return { batch: { batchSize: B, sequenceLength: T, inputIds, tokenTypeIds, attentionMask, positionIds }, labels };
}

async function main(): Promise<void> {
  const [shapeJson, warmupArg, itersArg, threadsArg, evalArg] = process.argv.slice(2);
  const s = JSON.parse(shapeJson!) as BenchShape;
  const warmup = Number(warmupArg ?? 2), iters = Number(itersArg ?? 5), threads = Number(threadsArg ?? 2);
  const load = loadAddon();
  if (!load.addon) throw new Error(load.reason);
  load.addon.setThreads(threads);
  const config = {
    modelType: 'bert', vocabSize: s.vocab, hiddenSize: s.hidden, numHiddenLayers: s.layers, numAttentionHeads: s.heads,
    intermediateSize: s.ffn, hiddenAct: 'gelu', hiddenDropoutProb: s.dropout, attentionProbsDropoutProb: s.dropout,
    maxPositionEmbeddings: s.maxPos, typeVocabSize: 2, layerNormEps: 1e-12, padTokenId: 0, initializerRange: 0.02, raw: {},
  };
  const provider = tinyProvider('bert');
  const layout = arenaLayout(config, provider);
  const runtime = new NativeEncoderRuntime(config, new load.addon.NativeEncoder(nativeShape(config, provider), layout.total, layout.roles), layout);
  // Fill the arena in place (uniform with std 0.02; LayerNorm weights 1, biases 0), so no JS copy of the weights exists.
  let x = 0x12345678;
  for (const [name, t] of runtime.parameters()) {
    if (name.endsWith('.bias')) continue;
    if (name.endsWith('LayerNorm.weight')) t.data.fill(1);
    else for (let i = 0; i < t.data.length; i++) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      t.data[i] = ((x >>> 0) / 4294967296 - 0.5) * 0.0693;
    }
  }
  const rand = seededRandom(1);
  const head = new BenchTokenClassifier(s.hidden, s.labels, rand, load.addon);
  const { batch, labels } = batchOf(s, rand);
  const noDecay = new Set([...layout.slots.keys()].filter((n) => n.endsWith('.bias') || n.includes('LayerNorm.')));
  const evalT: number[] = [];
  if (evalArg !== 'no-eval') {
    for (let i = 0; i < warmup + iters; i++) {
      const t0 = performance.now();
      head.logits(await runtime.forward(batch, { training: false }));
      if (i >= warmup) evalT.push(performance.now() - t0);
    }
  }
  const rssAfterEval = process.resourceUsage().maxRSS / 1024;
  const stepT: number[] = [], fwdT: number[] = [], bwdT: number[] = [], optT: number[] = [], losses: number[] = [];
  for (let i = 0; i < warmup + iters; i++) {
    const t0 = performance.now();
    runtime.zeroGradients();
    const hidden = await runtime.forward(batch, { training: true, dropoutSeed: i });
    const { loss, dHidden } = head.lossAndBackward(hidden, labels);
    const t1 = performance.now();
    await runtime.backward(dHidden);
    const t2 = performance.now();
    const step: AdamWStep = { learningRate: 5e-5, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, step: i + 1, noDecay };
    runtime.adamw(step);
    head.adamw(5e-5, i + 1);
    const t3 = performance.now();
    if (i >= warmup) {
      stepT.push(t3 - t0);
      fwdT.push(t1 - t0);
      bwdT.push(t2 - t1);
      optT.push(t3 - t2);
    }
    losses.push(loss);
  }
  const med = (xs: number[]) => summary(xs).median_ms;
  process.stdout.write(`${JSON.stringify({
    impl: 'xlt-native', threads, params: layout.total,
    train_step: summary(stepT), eval_forward: evalT.length ? summary(evalT) : null,
    train_phases_median_ms: { forward_loss: med(fwdT), backward: med(bwdT), adamw: med(optT) },
    loss_first: losses[0], loss_last: losses[losses.length - 1],
    peak_rss_mb_after_eval: rssAfterEval, peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  })}\n`);
  runtime.dispose();
}

main().catch((e: Error) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
