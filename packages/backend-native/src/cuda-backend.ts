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
import { loadCudaAddon, cudaAddonPath } from './cuda-addon.js';
import { CudaEncoderRuntime } from './cuda-encoder-runtime.js';
import { arenaLayout } from './layout.js';
import { nativeShape } from './native-backend.js';

/** How the CUDA backend's matrix products compute. */
export type CudaPrecision = 'fp32' | 'tf32' | 'bf16';

/** The addon's code of each precision (`native/cuda/blas.h`). */
const PRECISION_CODES: Record<CudaPrecision, number> = { fp32: 0, tf32: 1, bf16: 2 };

/** `XLT_CUDA_PRECISION`, else tf32 (PyTorch's `allow_tf32` speed with fp32 storage everywhere). */
export function cudaPrecision(): CudaPrecision {
  const env = process.env['XLT_CUDA_PRECISION'];
  if (env === undefined || env === '') return 'tf32';
  if (env in PRECISION_CODES) return env as CudaPrecision;
  throw new XltError(`XLT_CUDA_PRECISION: expected one of fp32, tf32, bf16, found '${env}'`);
}

/** Where the CUDA backend finds its addon, and how it computes. */
export interface CudaBackendOptions {
  /** Default {@link cudaAddonPath} (`XLT_CUDA_ADDON`, else the package's GPU build). */
  readonly addonPath?: string;
  /** Default {@link cudaPrecision}. */
  readonly precision?: CudaPrecision;
}

/**
 * The CUDA backend: the native backend's encoder on an NVIDIA GPU (kernels in `native/cuda`, matrix products through
 * cuBLAS loaded at run time), fp32 parameters, gradients and AdamW moments in GPU memory, and fp32, TF32 or bf16
 * (fp32 accumulation) matrix products. Priority 110: `backend: auto` takes it whenever a GPU is visible.
 * Deterministic on one GPU: no atomics, fixed-order reductions, dropout masks from the seed.
 */
@injectable()
export class CudaBackend implements TrainingBackend {
  readonly id = 'cuda';
  readonly description = 'NVIDIA GPU (CUDA kernels + cuBLAS; fp32, tf32 or bf16 via XLT_CUDA_PRECISION); needs nvcc at install and a GPU at run time';
  readonly priority = 110;
  readonly deterministic = true;

  constructor(private readonly options: CudaBackendOptions = {}) {}

  #load() {
    return loadCudaAddon(this.options.addonPath ?? cudaAddonPath());
  }

  async probe(): Promise<BackendProbe> {
    const load = this.#load();
    if (!load.addon) return { available: false, detail: load.reason };
    const probe = load.addon.probe();
    return { available: probe.available, detail: probe.available ? `${probe.detail}, ${this.options.precision ?? cudaPrecision()}` : probe.detail };
  }

  async createEncoder(config: EncoderConfig, provider: EncoderProvider, parameters: NamedTensors): Promise<EncoderRuntime> {
    const load = this.#load();
    if (!load.addon) throw new XltError(`backend 'cuda' is unavailable: ${load.reason}`);
    const probe = load.addon.probe();
    if (!probe.available) throw new XltError(`backend 'cuda' is unavailable: ${probe.detail}`);
    if (config.hiddenAct !== 'gelu') {
      throw new XltError(`backend 'cuda' supports hidden_act "gelu" (exact erf) only, found "${config.hiddenAct}"; choose another backend with --backend`);
    }
    if (config.hiddenSize % config.numAttentionHeads !== 0) {
      throw new XltError(`backend 'cuda': hidden_size ${config.hiddenSize} is not divisible by num_attention_heads ${config.numAttentionHeads}`);
    }
    const layout = arenaLayout(config, provider);
    const precision = PRECISION_CODES[this.options.precision ?? cudaPrecision()];
    let handle;
    try {
      handle = new load.addon.CudaEncoder(nativeShape(config, provider), layout.total, layout.roles, precision);
    } catch (e) {
      throw new XltError(`backend 'cuda': creating the encoder failed: ${(e as Error).message}`, { cause: e });
    }
    const runtime = new CudaEncoderRuntime(config, handle, layout);
    try {
      runtime.load(parameters);
    } catch (e) {
      runtime.dispose();
      throw e;
    }
    return runtime;
  }
}
