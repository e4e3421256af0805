import {
  type BackendProbe,
  type EncoderRuntime,
  type TrainingBackend,
  type EncoderConfig,
  type EncoderProvider,
  type NamedTensors,
  XltError,
} from '@xlt/plugin-api';
import { TfjsEncoderRuntime } from './tfjs-encoder-runtime.js';
import { initWasm, loadTf, type Tf } from './tfjs-loader.js';

/** How one TF.js backend is found and started. */
interface TfjsFlavour {
  readonly id: string;
  readonly description: string;
  readonly priority: number;
  readonly deterministic: boolean;
  /** TF.js backend name to compute on. */
  readonly tfBackend: string;
  /** Makes the backend available; returns whether it is, and why (not). Must not throw. */
  readonly setup: (tf: Tf) => Promise<{ ok: boolean; detail: string }>;
}

/**
 * A {@link TrainingBackend} over one TF.js backend, running {@link TfjsEncoderRuntime}. These are xlt's reference
 * backends: the arithmetic of HF's modules, step by step, in TF.js.
 */
export class TfjsTrainingBackend implements TrainingBackend {
  readonly id: string;
  readonly description: string;
  readonly priority: number;
  readonly deterministic: boolean;
  #probe: Promise<BackendProbe> | undefined;

  constructor(private readonly flavour: TfjsFlavour) {
    this.id = flavour.id;
    this.description = flavour.description;
    this.priority = flavour.priority;
    this.deterministic = flavour.deterministic;
  }

  probe(): Promise<BackendProbe> {
    this.#probe ??= (async () => {
      try {
        const tf = await loadTf();
        const { ok, detail } = await this.flavour.setup(tf);
        return { available: ok, detail };
      } catch (error) {
        return { available: false, detail: `TF.js failed to load: ${(error as Error).message}` };
      }
    })();
    return this.#probe;
  }

  async createEncoder(config: EncoderConfig, provider: EncoderProvider, parameters: NamedTensors): Promise<EncoderRuntime> {
    const probe = await this.probe();
    if (!probe.available) throw new XltError(`Backend "${this.id}" is not available: ${probe.detail}`);
    return new TfjsEncoderRuntime(await loadTf(), this.flavour.tfBackend, config, provider, parameters);
  }
}

/**
 * Probes an optional TF.js node binding. Importing it registers the `tensorflow` backend in the same TF.js engine
 * (the packages share `@tensorflow/tfjs-core`). Not installed is the normal case, reported, never thrown.
 */
function nodeBinding(pkg: string): (tf: Tf) => Promise<{ ok: boolean; detail: string }> {
  return async (tf) => {
    try {
      // A variable specifier: the package is optional and absent from type checking and bundling.
      const specifier: string = pkg;
      await import(specifier);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return { ok: false, detail: `${pkg} is not installed` };
      return { ok: false, detail: `${pkg} is installed but failed to load: ${firstLine((error as Error).message)}` };
    }
    if (!tf.findBackend('tensorflow')) return { ok: false, detail: `${pkg} loaded but registered no "tensorflow" backend in this TF.js` };
    return { ok: true, detail: `${pkg} (libtensorflow)` };
  };
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]!;
}

/** TF.js cpu backend: plain JS kernels, deterministic, slow; the reference every other backend is checked against. */
export const tfjsCpuBackend: TfjsTrainingBackend = new TfjsTrainingBackend({
  id: 'tfjs-cpu',
  description: 'TF.js cpu backend: deterministic reference, slow',
  priority: 10,
  deterministic: true,
  tfBackend: 'cpu',
  setup: async (tf) => (tf.findBackend('cpu') ? { ok: true, detail: 'TF.js cpu backend (JavaScript kernels)' } : { ok: false, detail: 'TF.js has no cpu backend' }),
});

/** TF.js wasm backend (XNNPACK, SIMD, one thread in Node), with the matMul-gradient and segment-sum fixes. */
export const tfjsWasmBackend: TfjsTrainingBackend = new TfjsTrainingBackend({
  id: 'tfjs-wasm',
  description: 'TF.js wasm backend (SIMD, single thread); encoder training within the 4 GiB wasm heap',
  priority: 20,
  deterministic: true,
  tfBackend: 'wasm',
  setup: initWasm,
});

/** `@tensorflow/tfjs-node` (libtensorflow on the CPU), when installed. */
export const tfjsNodeBackend: TfjsTrainingBackend = new TfjsTrainingBackend({
  id: 'tfjs-node',
  description: 'TF.js with @tensorflow/tfjs-node (libtensorflow, CPU); optional package',
  priority: 50,
  deterministic: false,
  tfBackend: 'tensorflow',
  setup: nodeBinding('@tensorflow/tfjs-node'),
});

/** `@tensorflow/tfjs-node-gpu` (libtensorflow with CUDA), when installed. */
export const tfjsNodeGpuBackend: TfjsTrainingBackend = new TfjsTrainingBackend({
  id: 'tfjs-node-gpu',
  description: 'TF.js with @tensorflow/tfjs-node-gpu (libtensorflow, CUDA GPU); optional package that needs CUDA 11.2 + cuDNN 8.1 and downloads libtensorflow at install (prefer the cuda backend)',
  priority: 100,
  deterministic: false,
  tfBackend: 'tensorflow',
  setup: nodeBinding('@tensorflow/tfjs-node-gpu'),
});

/** Every TF.js backend, bound by the model module. */
export const tfjsBackends: readonly TfjsTrainingBackend[] = [tfjsNodeGpuBackend, tfjsNodeBackend, tfjsWasmBackend, tfjsCpuBackend];
