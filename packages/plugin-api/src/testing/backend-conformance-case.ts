import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EncodedBatch } from '../plugins/backend.js';
import type { EncoderConfig, EncoderProvider, NamedTensors } from '../plugins/encoder.js';
import { normalSampler, seededRandom } from '../util/random.js';

/** The PyTorch reference shipped with this package (`reference/backend_reference.py`, in the package's `files`). */
export const BACKEND_REFERENCE_SCRIPT: string = resolve(import.meta.dirname, '../../reference/backend_reference.py');

export type ConformanceModelType = 'bert' | 'xlm-roberta';

/** One AdamW step of a case: the batch it trains on, its dropout seed and its hyperparameters. */
export interface CaseStep {
  readonly batch: number;
  readonly seed: number;
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
}

/** A tiny random encoder, its batches, the `R` of `loss = sum(hidden * R)` per batch, and the training steps. */
export interface ConformanceCase {
  readonly modelType: ConformanceModelType;
  readonly config: EncoderConfig;
  readonly provider: EncoderProvider;
  readonly params: NamedTensors;
  readonly batches: readonly EncodedBatch[];
  readonly rs: readonly Float32Array[];
  readonly evalBatch: number;
  readonly steps: readonly CaseStep[];
  readonly noDecay: ReadonlySet<string>;
}

/** The reference's outputs for a case. */
export interface ReferenceOutputs {
  readonly hiddenEval: Float32Array;
  readonly hidden: Float32Array[];
  readonly grads: Map<string, Float32Array>[];
  readonly params: Map<string, Float32Array>;
  readonly m: Map<string, Float32Array>;
  readonly v: Map<string, Float32Array>;
}

/** HF `config.json` of the tiny encoders (2 layers, hidden 32, 4 heads), parsed by the caller's provider. */
export function tinyConfigJson(modelType: ConformanceModelType, dropout: number, layers = 2): Record<string, unknown> {
  const roberta = modelType === 'xlm-roberta';
  return {
    model_type: modelType,
    vocab_size: 40,
    hidden_size: 32,
    num_hidden_layers: layers,
    num_attention_heads: 4,
    intermediate_size: 64,
    hidden_act: 'gelu',
    hidden_dropout_prob: dropout,
    attention_probs_dropout_prob: dropout,
    max_position_embeddings: roberta ? 12 : 16,
    type_vocab_size: roberta ? 1 : 2,
    layer_norm_eps: roberta ? 1e-5 : 1e-12,
    pad_token_id: roberta ? 1 : 0,
    initializer_range: 0.02,
  };
}

/** Parameters of large spread (0.2, LayerNorm weights 1 ± 0.1) so that every gradient is far from zero. */
export function randomParameters(config: EncoderConfig, provider: EncoderProvider, seed: number): NamedTensors {
  const normal = normalSampler(seededRandom(seed));
  const out: NamedTensors = new Map();
  for (const [name, shape] of provider.parameterShapes(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const lnWeight = name.endsWith('LayerNorm.weight');
    for (let i = 0; i < data.length; i++) data[i] = lnWeight ? 1 + 0.1 * normal() : 0.2 * normal();
    out.set(name, { shape: [...shape], data });
  }
  return out;
}

/** A padded batch: rows of the given lengths, random non-pad ids, pair-style type ids, the provider's positions. */
export function randomBatch(config: EncoderConfig, provider: EncoderProvider, rand: () => number, lengths: readonly number[], T: number): EncodedBatch {
  const B = lengths.length;
  const inputIds = new Int32Array(B * T), tokenTypeIds = new Int32Array(B * T), attentionMask = new Int32Array(B * T), positionIds = new Int32Array(B * T);
  const pad = config.padTokenId;
  for (let b = 0; b < B; b++) {
    const row: number[] = [];
    for (let t = 0; t < T; t++) {
      let id = pad;
      if (t < lengths[b]!) do id = Math.floor(rand() * config.vocabSize); while (id === pad);
      row.push(id);
      inputIds[b * T + t] = id;
      attentionMask[b * T + t] = t < lengths[b]! ? 1 : 0;
      tokenTypeIds[b * T + t] = config.typeVocabSize > 1 && t >= lengths[b]! / 2 && t < lengths[b]! ? 1 : 0;
    }
    positionIds.set(provider.positionIds(row, config), b * T);
  }
  return { batchSize: B, sequenceLength: T, inputIds, tokenTypeIds, attentionMask, positionIds };
}

/** The case of one architecture: 3 batches (padding in every one), 3 AdamW steps with dropout 0.1 at every site. */
export function makeCase(modelType: ConformanceModelType, provider: EncoderProvider): ConformanceCase {
  const config = provider.parseConfig(tinyConfigJson(modelType, 0.1), `<conformance ${modelType} config.json>`);
  const rand = seededRandom(modelType === 'bert' ? 7 : 11);
  const T = 9;
  const batches = [
    randomBatch(config, provider, rand, [9, 6, 3], T),
    randomBatch(config, provider, rand, [5, 9, 8, 2], T),
    randomBatch(config, provider, rand, [7, 9], T),
  ];
  const rs = batches.map((b) => Float32Array.from({ length: b.batchSize * T * config.hiddenSize }, () => rand() * 2 - 1));
  const noDecay = new Set([...provider.parameterShapes(config).keys()].filter((n) => n.endsWith('.bias') || n.includes('LayerNorm.')));
  // Seeds below and above 2^32 (the rule hashes both halves); a learning-rate schedule as the trainer's.
  const adam = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 };
  const steps: CaseStep[] = [
    { batch: 0, seed: 12345, learningRate: 1e-3, ...adam },
    { batch: 1, seed: 2 ** 33 + 77, learningRate: 8e-4, ...adam },
    { batch: 2, seed: 4294967295, learningRate: 5e-4, ...adam },
  ];
  return { modelType, config, provider, params: randomParameters(config, provider, modelType === 'bert' ? 3 : 4), batches, rs, evalBatch: 1, steps, noDecay };
}

function f32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4).slice();
}

function split(flat: Float32Array, params: NamedTensors, file: string): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  let off = 0;
  for (const [n, t] of params) {
    out.set(n, flat.subarray(off, off + t.data.length));
    off += t.data.length;
  }
  if (off !== flat.length) throw new Error(`${file}: ${flat.length} floats, expected ${off}`);
  return out;
}

const bytes = (a: Int32Array | Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/**
 * Writes the case into `dir`, runs the reference (`python` `script` `dir`) and reads its outputs. Throws an error
 * that names the missing Python module (torch, numpy) or the script's own message.
 */
export function runReference(c: ConformanceCase, dir: string, python: string, script = BACKEND_REFERENCE_SCRIPT): ReferenceOutputs {
  if (!existsSync(script)) throw new Error(`The backend reference script ${script} is missing.`);
  const names = [...c.params.keys()];
  writeFileSync(join(dir, 'params.f32'), Buffer.concat(names.map((n) => bytes(c.params.get(n)!.data))));
  c.batches.forEach((b, k) => {
    for (const [file, a] of [['ids', b.inputIds], ['types', b.tokenTypeIds], ['mask', b.attentionMask], ['pos', b.positionIds]] as const) writeFileSync(join(dir, `${file}_${k}.i32`), bytes(a));
    writeFileSync(join(dir, `r_${k}.f32`), bytes(c.rs[k]!));
  });
  const cfg = c.config;
  const posPad = c.provider.positionPaddingIdx?.(cfg);
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      prefix: c.provider.parameterPrefix,
      config: {
        hidden: cfg.hiddenSize, heads: cfg.numAttentionHeads, layers: cfg.numHiddenLayers, ffn: cfg.intermediateSize, eps: cfg.layerNormEps, act: cfg.hiddenAct,
        wordPad: cfg.padTokenId, posPad: posPad ?? -1, hiddenDropout: cfg.hiddenDropoutProb, attnDropout: cfg.attentionProbsDropoutProb,
      },
      parameters: names.map((n) => [n, c.params.get(n)!.shape]),
      noDecay: [...c.noDecay],
      batches: c.batches.map((b) => ({ batchSize: b.batchSize, sequenceLength: b.sequenceLength })),
      eval: c.evalBatch,
      steps: c.steps.map((s) => ({ batch: s.batch, seed: s.seed, lr: s.learningRate, beta1: s.beta1, beta2: s.beta2, epsilon: s.epsilon, weightDecay: s.weightDecay })),
    }),
  );
  const run = spawnSync(python, [script, dir], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (run.error) throw new Error(`Cannot run the PyTorch reference: ${python} ${script}: ${run.error.message} (set XLT_PYTHON to a python3 with torch and numpy).`);
  if (run.status !== 0) {
    const missing = /needs the Python module '([^']+)'/.exec(run.stderr);
    if (missing) throw new Error(`The PyTorch reference needs the Python module '${missing[1]}' in ${python} (pip install torch numpy, or Debian python3-torch python3-numpy).`);
    throw new Error(`The PyTorch reference ${python} ${script} ${dir} failed (exit ${run.status}):\n${run.stderr}`);
  }
  const read = (file: string) => f32(join(dir, file));
  return {
    hiddenEval: read('hidden_eval.f32'),
    hidden: c.steps.map((_, s) => read(`hidden_${s}.f32`)),
    grads: c.steps.map((_, s) => split(read(`grads_${s}.f32`), c.params, `grads_${s}.f32`)),
    params: split(read('params_final.f32'), c.params, 'params_final.f32'),
    m: split(read('m_final.f32'), c.params, 'm_final.f32'),
    v: split(read('v_final.f32'), c.params, 'v_final.f32'),
  };
}
