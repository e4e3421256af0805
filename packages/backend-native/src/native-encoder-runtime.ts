import {
  XltError,
  type AdamWStep,
  type EncodedBatch,
  type EncoderConfig,
  type EncoderRuntime,
  type NamedTensors,
} from '@xlt/plugin-api';
import type { NativeEncoderHandle } from './addon.js';
import { adamwSegments, arenaViews as views, copyTensors, type ArenaLayout } from './layout.js';

/**
 * {@link EncoderRuntime} over the native addon. Parameters, gradients and moments are Float32Array views into
 * C++ arenas (no JS or wasm heap), so the views stay valid for the runtime's life and see every update in place.
 */
export class NativeEncoderRuntime implements EncoderRuntime {
  readonly #native: NativeEncoderHandle;
  readonly #layout: ArenaLayout;
  #params: NamedTensors;
  #grads: NamedTensors | undefined;
  #moments: { m: NamedTensors; v: NamedTensors } | undefined;
  #segments: { key: ReadonlySet<string>; data: Float64Array } | undefined;
  #disposed = false;

  constructor(
    readonly config: EncoderConfig,
    native: NativeEncoderHandle,
    layout: ArenaLayout,
  ) {
    this.#native = native;
    this.#layout = layout;
    this.#params = views(native.parameters(), layout);
  }

  #live(): NativeEncoderHandle {
    if (this.#disposed) throw new XltError('native backend: encoder used after dispose()');
    return this.#native;
  }

  async forward(batch: EncodedBatch, options: { readonly training: boolean; readonly dropoutSeed?: number }): Promise<Float32Array> {
    const seed = options.dropoutSeed ?? 0;
    if (!Number.isSafeInteger(seed) || seed < 0) throw new XltError(`native backend: dropoutSeed must be a non-negative integer, found ${seed}`);
    try {
      return this.#live().forward(batch.inputIds, batch.tokenTypeIds, batch.attentionMask, batch.positionIds, batch.batchSize, batch.sequenceLength, options.training, seed);
    } catch (e) {
      throw e instanceof XltError ? e : new XltError(`native backend: forward failed: ${(e as Error).message}`, { cause: e });
    }
  }

  async backward(dHidden: Float32Array): Promise<void> {
    try {
      this.#live().backward(dHidden);
    } catch (e) {
      throw e instanceof XltError ? e : new XltError(`native backend: backward failed: ${(e as Error).message}`, { cause: e });
    }
  }

  parameters(): NamedTensors {
    this.#live();
    return this.#params;
  }

  gradients(): NamedTensors {
    this.#grads ??= views(this.#live().gradients(), this.#layout);
    return this.#grads;
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
    if (this.#segments?.key !== step.noDecay) {
      this.#segments = { key: step.noDecay, data: adamwSegments(this.#layout, step.noDecay) };
    }
    this.#live().adamw({ lr: step.learningRate, b1: step.beta1, b2: step.beta2, eps: step.epsilon, wd: step.weightDecay, step: step.step }, this.#segments.data);
  }

  optimizerState(): { readonly m: NamedTensors; readonly v: NamedTensors } {
    if (!this.#moments) {
      const [m, v] = this.#live().moments();
      this.#moments = { m: views(m, this.#layout), v: views(v, this.#layout) };
    }
    return this.#moments;
  }

  load(parameters: NamedTensors, moments?: { readonly m: NamedTensors; readonly v: NamedTensors }): void {
    copyTensors(this.#params, parameters, 'native backend: parameters');
    if (moments) {
      const state = this.optimizerState();
      copyTensors(state.m, moments.m, 'native backend: AdamW first moments');
      copyTensors(state.v, moments.v, 'native backend: AdamW second moments');
    }
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#native.dispose();
  }
}

