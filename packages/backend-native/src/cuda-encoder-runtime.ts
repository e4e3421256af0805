import { XltError, type AdamWStep, type EncodedBatch, type EncoderConfig, type EncoderRuntime, type NamedTensors } from '@xlt/plugin-api';
import { CudaArena, type CudaEncoderHandle } from './cuda-addon.js';
import { adamwSegments, arenaViews, copyTensors, type ArenaLayout } from './layout.js';

/**
 * {@link EncoderRuntime} over the CUDA addon. Parameters, gradients and moments live in GPU memory; the accessors
 * return fresh host copies, copied one tensor at a time (checkpoints, resume), so writing into them changes nothing
 * on the GPU: use {@link load}.
 */
export class CudaEncoderRuntime implements EncoderRuntime {
  readonly #gpu: CudaEncoderHandle;
  readonly #layout: ArenaLayout;
  #segments: { key: ReadonlySet<string>; data: Float64Array } | undefined;
  #disposed = false;

  constructor(
    readonly config: EncoderConfig,
    gpu: CudaEncoderHandle,
    layout: ArenaLayout,
  ) {
    this.#gpu = gpu;
    this.#layout = layout;
  }

  #live(): CudaEncoderHandle {
    if (this.#disposed) throw new XltError('cuda backend: encoder used after dispose()');
    return this.#gpu;
  }

  #call<T>(what: string, body: () => T): T {
    try {
      return body();
    } catch (e) {
      throw e instanceof XltError ? e : new XltError(`cuda backend: ${what} failed: ${(e as Error).message}`, { cause: e });
    }
  }

  async forward(batch: EncodedBatch, options: { readonly training: boolean; readonly dropoutSeed?: number }): Promise<Float32Array> {
    const seed = options.dropoutSeed ?? 0;
    if (!Number.isSafeInteger(seed) || seed < 0) throw new XltError(`cuda backend: dropoutSeed must be a non-negative integer, found ${seed}`);
    const gpu = this.#live();
    return this.#call('forward', () => gpu.forward(batch.inputIds, batch.tokenTypeIds, batch.attentionMask, batch.positionIds, batch.batchSize, batch.sequenceLength, options.training, seed));
  }

  async backward(dHidden: Float32Array): Promise<void> {
    const gpu = this.#live();
    this.#call('backward', () => gpu.backward(dHidden));
  }

  /** Host copies of an arena's tensors, copied from the GPU one tensor at a time. */
  #download(arena: CudaArena): NamedTensors {
    const gpu = this.#live();
    const out: NamedTensors = new Map();
    for (const [name, slot] of this.#layout.slots) out.set(name, { shape: slot.shape, data: this.#call('download', () => gpu.download(arena, slot.offset, slot.size)) });
    return out;
  }

  parameters(): NamedTensors {
    return this.#download(CudaArena.parameters);
  }

  gradients(): NamedTensors {
    return this.#download(CudaArena.gradients);
  }

  zeroGradients(): void {
    this.#live().zeroGradients();
  }

  scaleGradients(factor: number): void {
    this.#live().scaleGradients(factor);
  }

  gradientSquaredNorm(): number {
    return this.#live().gradientSquaredNorm();
  }

  adamw(step: AdamWStep): void {
    if (this.#segments?.key !== step.noDecay) this.#segments = { key: step.noDecay, data: adamwSegments(this.#layout, step.noDecay) };
    const gpu = this.#live();
    const segments = this.#segments.data;
    this.#call('AdamW', () => gpu.adamw({ lr: step.learningRate, b1: step.beta1, b2: step.beta2, eps: step.epsilon, wd: step.weightDecay, step: step.step }, segments));
  }

  optimizerState(): { readonly m: NamedTensors; readonly v: NamedTensors } {
    return { m: this.#download(CudaArena.firstMoments), v: this.#download(CudaArena.secondMoments) };
  }

  load(parameters: NamedTensors, moments?: { readonly m: NamedTensors; readonly v: NamedTensors }): void {
    const gpu = this.#live();
    // Every tensor is checked before anything is uploaded, so a bad checkpoint leaves the GPU state unchanged.
    const staged: [CudaArena, Float32Array][] = [[CudaArena.parameters, this.#stage(parameters, 'parameters')]];
    if (moments) {
      staged.push([CudaArena.firstMoments, this.#stage(moments.m, 'AdamW first moments')]);
      staged.push([CudaArena.secondMoments, this.#stage(moments.v, 'AdamW second moments')]);
    }
    for (const [arena, values] of staged) this.#call('upload', () => gpu.upload(arena, values));
  }

  #stage(source: NamedTensors, what: string): Float32Array {
    const buffer = new ArrayBuffer(this.#layout.total * 4);
    copyTensors(arenaViews(buffer, this.#layout), source, `cuda backend: ${what}`);
    return new Float32Array(buffer);
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#gpu.dispose();
  }
}
