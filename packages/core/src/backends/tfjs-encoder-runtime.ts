import type * as tfjs from '@tensorflow/tfjs';
import {
  XltError,
  type AdamWStep,
  type EncodedBatch,
  type EncoderRuntime,
  type EncoderConfig,
  type EncoderProvider,
  type NamedTensors,
} from '@xlt/plugin-api';
import { adamwUpdate, zerosLike } from './host-adamw.js';
import { encoderGraph, MASK_VALUE } from './tfjs-encoder-graph.js';
import type { Tf } from './tfjs-loader.js';

/** A 2-D weight used as `x · Wᵀ` by HF's `nn.Linear`: uploaded transposed. */
function isLinearWeight(name: string, shape: readonly number[]): boolean {
  return shape.length === 2 && name.endsWith('.weight') && !name.includes('embeddings.');
}

/**
 * The reference {@link EncoderRuntime} on a TF.js backend (`cpu`, `wasm`, `tensorflow`). Parameters, gradients and
 * AdamW moments live on the host as Float32Arrays (the runtime owns them), so AdamW is plain PyTorch arithmetic and
 * the embedding tables never enter TF: rows are gathered on the host, and their gradient is scattered back on the
 * host (wasm has no gradient for `gather`, and a dense `[V, H]` gradient inside TF would blow the 4 GiB wasm heap).
 * The other parameters are uploaded once per update and cached.
 */
export class TfjsEncoderRuntime implements EncoderRuntime {
  readonly #params: NamedTensors;
  readonly #grads: NamedTensors;
  #m: NamedTensors | undefined;
  #v: NamedTensors | undefined;
  readonly #prefix: string;
  /** Parameters that enter the TF graph, i.e. all but the three embedding tables, in a fixed order. */
  readonly #graphNames: string[];
  #uploaded: Map<string, tfjs.Tensor> | undefined;
  #last: { batch: EncodedBatch; seed: number } | undefined;
  #disposed = false;
  readonly #positionPaddingIdx: number | undefined;

  constructor(
    private readonly tf: Tf,
    /** TF.js backend name this runtime computes on. */
    readonly backendName: string,
    readonly config: EncoderConfig,
    provider: EncoderProvider,
    parameters: NamedTensors,
  ) {
    this.#prefix = provider.parameterPrefix;
    this.#positionPaddingIdx = positionPaddingIdx(provider, config);
    const shapes = provider.parameterShapes(config);
    const problems: string[] = [];
    this.#params = new Map();
    for (const [name, shape] of shapes) {
      const t = parameters.get(name);
      if (!t) problems.push(`${name}: missing (expected shape [${shape.join(', ')}])`);
      else if (!sameShape(t.shape, shape) || t.data.length !== size(shape)) problems.push(`${name}: expected shape [${shape.join(', ')}], found [${t.shape.join(', ')}] with ${t.data.length} values`);
      else this.#params.set(name, { shape: [...shape], data: t.data });
    }
    if (problems.length) throw new XltError(`Cannot build the encoder: its parameters do not match the config.\n  - ${problems.join('\n  - ')}`);
    this.#grads = zerosLike(this.#params);
    const e = `${this.#prefix}embeddings.`;
    const tables = new Set([`${e}word_embeddings.weight`, `${e}position_embeddings.weight`, `${e}token_type_embeddings.weight`]);
    this.#graphNames = [...shapes.keys()].filter((n) => !tables.has(n));
  }

  async forward(batch: EncodedBatch, options: { readonly training: boolean; readonly dropoutSeed?: number }): Promise<Float32Array> {
    await this.#ready();
    const seed = options.dropoutSeed ?? 0;
    if (options.training) this.#last = { batch, seed };
    const weights = this.#weights();
    const tf = this.tf;
    const embeddings = this.#embed(batch);
    const out = tf.tidy(() => {
      const inputs = this.#inputs(batch, embeddings);
      const hidden = encoderGraph(tf, this.config, inputs, (n) => weights.get(this.#prefix + n)!, { training: options.training, seed });
      return hidden.dataSync() as Float32Array;
    });
    return new Float32Array(out);
  }

  async backward(dHidden: Float32Array): Promise<void> {
    if (!this.#last) throw new XltError('backward() needs a training forward() first.');
    await this.#ready();
    const { batch, seed } = this.#last;
    const H = this.config.hiddenSize;
    const N = batch.batchSize * batch.sequenceLength;
    if (dHidden.length !== N * H) throw new XltError(`backward(): dHidden has ${dHidden.length} values, expected ${N} x ${H} = ${N * H}.`);
    const tf = this.tf;
    const weights = this.#weights();
    const names = this.#graphNames;
    const embeddings = this.#embed(batch);
    const grads = tf.tidy(() => {
      const inputs = this.#inputs(batch, embeddings);
      const dy = tf.tensor2d(dHidden, [N, H]);
      const f = (emb: tfjs.Tensor, ...ws: tfjs.Tensor[]): tfjs.Tensor => {
        const byName = new Map(names.map((n, i) => [n, ws[i]!]));
        const hidden = encoderGraph(tf, this.config, { ...inputs, embeddings: emb as tfjs.Tensor2D }, (n) => byName.get(this.#prefix + n)!, { training: true, seed });
        return tf.sum(tf.mul(hidden, dy));
      };
      const all = tf.grads(f)([inputs.embeddings, ...names.map((n) => weights.get(n)!)]);
      return all.map((g, i) => {
        const name = i === 0 ? '' : names[i - 1]!;
        const hostShape = i === 0 ? [N, H] : this.#params.get(name)!.shape;
        return (isLinearWeight(name, hostShape) ? tf.transpose(g) : g).dataSync() as Float32Array;
      });
    });
    for (let i = 0; i < names.length; i++) addInto(this.#grads.get(names[i]!)!.data, grads[i + 1]!);
    this.#scatterEmbeddingGrad(batch, grads[0]!);
  }

  parameters(): NamedTensors {
    // Callers may write into the live arrays (e.g. averaging in place); upload again before the next pass.
    this.#invalidate();
    return this.#params;
  }

  gradients(): NamedTensors {
    return this.#grads;
  }

  zeroGradients(): void {
    for (const g of this.#grads.values()) g.data.fill(0);
  }

  scaleGradients(factor: number): void {
    for (const g of this.#grads.values()) {
      const d = g.data;
      for (let i = 0; i < d.length; i++) d[i]! *= factor;
    }
  }

  gradientSquaredNorm(): number {
    let sum = 0;
    for (const g of this.#grads.values()) {
      const d = g.data;
      for (let i = 0; i < d.length; i++) sum += d[i]! * d[i]!;
    }
    return sum;
  }

  adamw(step: AdamWStep): void {
    this.#m ??= zerosLike(this.#params);
    this.#v ??= zerosLike(this.#params);
    for (const [name, p] of this.#params) {
      adamwUpdate(p.data, this.#grads.get(name)!.data, this.#m.get(name)!.data, this.#v.get(name)!.data, step, !step.noDecay.has(name));
    }
    this.#invalidate();
  }

  optimizerState(): { readonly m: NamedTensors; readonly v: NamedTensors } {
    this.#m ??= zerosLike(this.#params);
    this.#v ??= zerosLike(this.#params);
    return { m: this.#m, v: this.#v };
  }

  load(parameters: NamedTensors, moments?: { readonly m: NamedTensors; readonly v: NamedTensors }): void {
    const copyInto = (target: NamedTensors, source: NamedTensors, what: string) => {
      const problems: string[] = [];
      for (const [name, t] of target) {
        const s = source.get(name);
        if (!s) problems.push(`${name}: missing`);
        else if (s.data.length !== t.data.length || !sameShape(s.shape, t.shape)) problems.push(`${name}: expected shape [${t.shape.join(', ')}], found [${s.shape.join(', ')}]`);
      }
      if (problems.length) throw new XltError(`Cannot load ${what} into the encoder:\n  - ${problems.join('\n  - ')}`);
      for (const [name, t] of target) t.data.set(source.get(name)!.data);
    };
    copyInto(this.#params, parameters, 'parameters');
    if (moments) {
      const state = this.optimizerState();
      copyInto(state.m, moments.m, 'AdamW first moments');
      copyInto(state.v, moments.v, 'AdamW second moments');
    }
    this.#invalidate();
  }

  dispose(): void {
    this.#invalidate();
    this.#disposed = true;
  }

  async #ready(): Promise<void> {
    if (this.#disposed) throw new XltError('The encoder runtime was disposed.');
    if (this.tf.getBackend() !== this.backendName) {
      const ok = await this.tf.setBackend(this.backendName);
      if (!ok || this.tf.getBackend() !== this.backendName) throw new XltError(`TF.js backend "${this.backendName}" could not be activated.`);
    }
  }

  #invalidate(): void {
    if (this.#uploaded) for (const t of this.#uploaded.values()) t.dispose();
    this.#uploaded = undefined;
  }

  /** The graph parameters as tensors, linear weights transposed to `[in, out]`; cached until the next update. */
  #weights(): Map<string, tfjs.Tensor> {
    if (this.#uploaded) return this.#uploaded;
    const tf = this.tf;
    const out = new Map<string, tfjs.Tensor>();
    for (const name of this.#graphNames) {
      const p = this.#params.get(name)!;
      // A copy: the cpu backend would otherwise alias the host array that AdamW rewrites in place.
      const t = tf.tensor(p.data.slice(), p.shape as number[], 'float32');
      if (isLinearWeight(name, p.shape)) {
        out.set(name, tf.transpose(t));
        t.dispose();
      } else out.set(name, t);
    }
    this.#uploaded = out;
    return out;
  }

  /** Word + token-type + position embedding rows summed on the host, in HF's order of additions. */
  #embed(batch: EncodedBatch): Float32Array {
    const H = this.config.hiddenSize;
    const N = batch.batchSize * batch.sequenceLength;
    checkBatch(batch, this.config);
    const e = `${this.#prefix}embeddings.`;
    const word = this.#params.get(`${e}word_embeddings.weight`)!.data;
    const position = this.#params.get(`${e}position_embeddings.weight`)!.data;
    const type = this.#params.get(`${e}token_type_embeddings.weight`)!.data;
    const out = new Float32Array(N * H);
    for (let r = 0; r < N; r++) {
      const w = batch.inputIds[r]! * H;
      const t = batch.tokenTypeIds[r]! * H;
      const p = batch.positionIds[r]! * H;
      const o = r * H;
      for (let j = 0; j < H; j++) out[o + j] = word[w + j]! + type[t + j]!;
      for (let j = 0; j < H; j++) out[o + j]! += position[p + j]!;
    }
    return out;
  }

  #inputs(batch: EncodedBatch, embeddings: Float32Array) {
    const tf = this.tf;
    const { batchSize: B, sequenceLength: T } = batch;
    const mask = new Float32Array(B * T);
    for (let i = 0; i < mask.length; i++) mask[i] = batch.attentionMask[i] ? 0 : MASK_VALUE;
    return {
      embeddings: tf.tensor2d(embeddings, [B * T, this.config.hiddenSize]),
      maskAdd: tf.tensor4d(mask, [B, 1, 1, T]),
      batchSize: B,
      sequenceLength: T,
    };
  }

  #scatterEmbeddingGrad(batch: EncodedBatch, dEmb: Float32Array): void {
    const H = this.config.hiddenSize;
    const e = `${this.#prefix}embeddings.`;
    const word = this.#grads.get(`${e}word_embeddings.weight`)!.data;
    const position = this.#grads.get(`${e}position_embeddings.weight`)!.data;
    const type = this.#grads.get(`${e}token_type_embeddings.weight`)!.data;
    const N = batch.batchSize * batch.sequenceLength;
    // nn.Embedding(padding_idx=...) gives the padding row no gradient: HF sets it for the word embeddings of
    // every model and for RoBERTa's position embeddings.
    const padWord = this.config.padTokenId;
    const padPosition = this.#positionPaddingIdx ?? -1;
    for (let r = 0; r < N; r++) {
      const o = r * H;
      const t = batch.tokenTypeIds[r]! * H;
      for (let j = 0; j < H; j++) type[t + j]! += dEmb[o + j]!;
      if (batch.inputIds[r] !== padWord) {
        const w = batch.inputIds[r]! * H;
        for (let j = 0; j < H; j++) word[w + j]! += dEmb[o + j]!;
      }
      if (batch.positionIds[r] !== padPosition) {
        const p = batch.positionIds[r]! * H;
        for (let j = 0; j < H; j++) position[p + j]! += dEmb[o + j]!;
      }
    }
  }
}

/**
 * The position-embedding row that gets no gradient (RoBERTa's `padding_idx`), from the optional
 * `positionPaddingIdx` of a provider; undefined for BERT, whose position 0 is a real position.
 */
function positionPaddingIdx(provider: EncoderProvider, config: EncoderConfig): number | undefined {
  const p = provider as EncoderProvider & { positionPaddingIdx?: (config: EncoderConfig) => number | undefined };
  return typeof p.positionPaddingIdx === 'function' ? p.positionPaddingIdx(config) : undefined;
}

function checkBatch(batch: EncodedBatch, config: EncoderConfig): void {
  const N = batch.batchSize * batch.sequenceLength;
  for (const [name, arr] of [['inputIds', batch.inputIds], ['tokenTypeIds', batch.tokenTypeIds], ['attentionMask', batch.attentionMask], ['positionIds', batch.positionIds]] as const) {
    if (arr.length !== N) throw new XltError(`Batch ${name} has ${arr.length} values, expected ${batch.batchSize} x ${batch.sequenceLength} = ${N}.`);
  }
  const check = (arr: Int32Array, limit: number, what: string, field: string) => {
    for (let i = 0; i < arr.length; i++) {
      const x = arr[i]!;
      if (x < 0 || x >= limit) {
        throw new XltError(`Batch row ${Math.floor(i / batch.sequenceLength)}, token ${i % batch.sequenceLength}: ${what} ${x} is outside [0, ${limit}) (config ${field} = ${limit}).`);
      }
    }
  };
  check(batch.inputIds, config.vocabSize, 'token id', 'vocab_size');
  check(batch.tokenTypeIds, config.typeVocabSize, 'token type id', 'type_vocab_size');
  check(batch.positionIds, config.maxPositionEmbeddings, 'position id', 'max_position_embeddings');
}

function addInto(target: Float32Array, source: Float32Array): void {
  for (let i = 0; i < target.length; i++) target[i]! += source[i]!;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
