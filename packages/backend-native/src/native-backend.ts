import { availableParallelism } from 'node:os';
import { injectable } from 'inversify';
import {
  XltError,
  type BackendProbe,
  type EncoderConfig,
  type EncoderProvider,
  type EncoderRuntime,
  type NamedTensors,
  type TrainingBackend,
} from '@xlt/plugin-api';
import { loadAddon, type NativeShape } from './addon.js';
import { arenaLayout } from './layout.js';
import { NativeEncoderRuntime } from './native-encoder-runtime.js';

/** Threads for the native kernels: `XLT_NATIVE_THREADS`, else every core Node sees. */
export function nativeThreads(): number {
  const env = Number(process.env['XLT_NATIVE_THREADS']);
  return Number.isInteger(env) && env > 0 ? env : availableParallelism();
}

/**
 * The addon's encoder shape for an HF config. The position padding row (no gradient; -1 for none) comes from the
 * provider, so that any RoBERTa-style encoder, not only the model types core knows, gets HF's `padding_idx`.
 */
export function nativeShape(config: EncoderConfig, provider: EncoderProvider): NativeShape {
  return {
    layers: config.numHiddenLayers,
    hidden: config.hiddenSize,
    heads: config.numAttentionHeads,
    ffn: config.intermediateSize,
    vocab: config.vocabSize,
    maxPos: config.maxPositionEmbeddings,
    typeVocab: config.typeVocabSize,
    eps: config.layerNormEps,
    hiddenDropout: config.hiddenDropoutProb,
    attnDropout: config.attentionProbsDropoutProb,
    wordPad: config.padTokenId,
    posPad: provider.positionPaddingIdx?.(config) ?? -1,
  };
}

/**
 * The native CPU backend: BERT/XLM-R forward, backward and fused AdamW in a C++ addon over OpenBLAS, with OpenMP
 * threads. Priority 40: above TF.js wasm/cpu, below tfjs-node (50) and tfjs-node-gpu (100). Deterministic for a
 * given thread count: every reduction has a fixed order and dropout masks are a pure function of the seed.
 */
@injectable()
export class NativeBackend implements TrainingBackend {
  readonly id = 'native';
  readonly description = 'Native CPU kernels (C++ addon over OpenBLAS, no 4 GiB cap); needs the addon built at install';
  readonly priority = 40;
  readonly deterministic = true;

  async probe(): Promise<BackendProbe> {
    const load = loadAddon();
    if (!load.addon) return { available: false, detail: load.reason };
    return { available: true, detail: `${load.path}, ${nativeThreads()} threads` };
  }

  async createEncoder(config: EncoderConfig, provider: EncoderProvider, parameters: NamedTensors): Promise<EncoderRuntime> {
    const load = loadAddon();
    if (!load.addon) throw new XltError(`backend 'native' is unavailable: ${load.reason}`);
    if (config.hiddenAct !== 'gelu') {
      throw new XltError(`backend 'native' supports hidden_act "gelu" (exact erf) only, found "${config.hiddenAct}"; choose a TF.js backend with --backend`);
    }
    if (config.hiddenSize % config.numAttentionHeads !== 0) {
      throw new XltError(`backend 'native': hidden_size ${config.hiddenSize} is not divisible by num_attention_heads ${config.numAttentionHeads}`);
    }
    const layout = arenaLayout(config, provider);
    load.addon.setThreads(nativeThreads());
    const handle = new load.addon.NativeEncoder(nativeShape(config, provider), layout.total, layout.roles);
    const runtime = new NativeEncoderRuntime(config, handle, layout);
    try {
      runtime.load(parameters);
    } catch (e) {
      runtime.dispose();
      throw e;
    }
    return runtime;
  }
}
