import type { Plugin } from './plugin.js';
import type { EncoderConfig, EncoderProvider, NamedTensors } from './encoder.js';

/** Whether a backend can run on this machine, and why not. */
export interface BackendProbe {
  readonly available: boolean;
  /** Why it is unavailable (missing package, no GPU, native part not built), or what it found. */
  readonly detail: string;
}

/** One padded batch of token ids, row-major `[batchSize, sequenceLength]`. */
export interface EncodedBatch {
  readonly batchSize: number;
  readonly sequenceLength: number;
  readonly inputIds: Int32Array;
  readonly tokenTypeIds: Int32Array;
  /** 1 for real tokens, 0 for padding. */
  readonly attentionMask: Int32Array;
  /** From {@link EncoderProvider.positionIds} (RoBERTa's padding offset is applied there). */
  readonly positionIds: Int32Array;
}

/** AdamW hyperparameters of one optimizer step (decoupled weight decay, PyTorch `torch.optim.AdamW` semantics). */
export interface AdamWStep {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** 1-based step count, for bias correction. */
  readonly step: number;
  /** Parameters excluded from weight decay (biases and LayerNorm weights). */
  readonly noDecay: ReadonlySet<string>;
}

/**
 * The encoder of one model on one backend. It owns parameters, gradients and AdamW moments (so a native backend
 * can keep them outside any JS or wasm heap). Task heads run in TF.js on top of {@link forward}'s output and hand
 * `dLoss/dHidden` back to {@link backward}.
 */
export interface EncoderRuntime {
  readonly config: EncoderConfig;
  /** Last hidden state, `[B, T, H]` row-major. With `training`, dropout masks are drawn from `dropoutSeed`. */
  forward(batch: EncodedBatch, options: { readonly training: boolean; readonly dropoutSeed?: number }): Promise<Float32Array>;
  /** Back-propagates `dHidden` (`[B, T, H]`) through the last training forward, adding into the gradients. */
  backward(dHidden: Float32Array): Promise<void>;
  /** Live parameters by HF name (the arrays may be views into backend memory; copy before keeping). */
  parameters(): NamedTensors;
  /** Live gradients by HF name, same shapes as {@link parameters}. */
  gradients(): NamedTensors;
  zeroGradients(): void;
  /** Multiplies every gradient by `factor` (clipping by global norm, gradient accumulation). */
  scaleGradients(factor: number): void;
  /** Sum of squares of every gradient (for clipping by global norm). */
  gradientSquaredNorm(): number;
  /** One AdamW update of every parameter. Moments are created on first use and exposed by {@link optimizerState}. */
  adamw(step: AdamWStep): void;
  /** AdamW first and second moments by parameter name (for checkpoints with optimizer state). */
  optimizerState(): { readonly m: NamedTensors; readonly v: NamedTensors };
  /** Replaces parameters (and optionally moments) by the given values, e.g. when resuming. */
  load(parameters: NamedTensors, moments?: { readonly m: NamedTensors; readonly v: NamedTensors }): void;
  dispose(): void;
}

/**
 * Extension point: the compute behind the trainer (`tfjs-node-gpu`, `tfjs-node`, the native CPU kernels, TF.js
 * wasm or cpu). The trainer picks the available backend with the highest {@link priority} unless the user names
 * one with `--backend`, and prints its choice at start.
 */
export interface TrainingBackend extends Plugin {
  /** Higher wins the automatic choice. GPU backends rank above CPU ones, the reference backend last. */
  readonly priority: number;
  /** Whether this backend is deterministic for a given seed (required by the kill-and-resume guarantee). */
  readonly deterministic: boolean;
  /** Checks availability without side effects on other backends. */
  probe(): Promise<BackendProbe>;
  /** Builds the encoder of `config` with the given parameters (every name of `provider.parameterShapes`). */
  createEncoder(config: EncoderConfig, provider: EncoderProvider, parameters: NamedTensors): Promise<EncoderRuntime>;
}

/** Service identifier of {@link TrainingBackend}. */
export const TrainingBackend: unique symbol = Symbol.for('xlt.TrainingBackend');
