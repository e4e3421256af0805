import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeAdamW, NativeShape } from './addon.js';

/** Which arena a copy reads or writes (`native/cuda/encoder.h`). */
export const CudaArena = { parameters: 0, gradients: 1, firstMoments: 2, secondMoments: 3 } as const;
/** One of {@link CudaArena}'s codes. */
export type CudaArena = (typeof CudaArena)[keyof typeof CudaArena];

/** One encoder in GPU memory (see `native/cuda/addon.cc`); arenas cross to the host as copies. */
export interface CudaEncoderHandle {
  /** A host copy of floats `offset .. offset + length` of an arena (one tensor's slot). */
  download(arena: CudaArena, offset: number, length: number): Float32Array;
  upload(arena: CudaArena, values: Float32Array): void;
  forward(ids: Int32Array, types: Int32Array, mask: Int32Array, pos: Int32Array, batchSize: number, sequenceLength: number, training: boolean, seed: number): Float32Array;
  backward(dHidden: Float32Array): void;
  zeroGradients(): void;
  scaleGradients(factor: number): void;
  gradientSquaredNorm(): number;
  adamw(step: NativeAdamW, segments: Float64Array): void;
  dispose(): void;
}

/** The CUDA addon's exports. */
export interface CudaAddon {
  CudaEncoder: new (shape: NativeShape, totalFloats: number, layout: Float64Array, precision: number) => CudaEncoderHandle;
  /** A visible GPU and a loadable cuBLAS, or why not. */
  probe(): { available: boolean; detail: string };
  /** True for the CPU emulation build (tests). */
  readonly emulated: boolean;
}

/** The addon, or why it could not be loaded. */
export type CudaAddonLoad = { readonly addon: CudaAddon; readonly path: string } | { readonly addon: null; readonly reason: string };

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The GPU build (`XLT_CUDA_ADDON` overrides it, e.g. with the emulated build for tests). */
export function cudaAddonPath(): string {
  return process.env['XLT_CUDA_ADDON'] ?? join(packageRoot, 'build-cuda', 'gpu', 'xlt_cuda.node');
}

/** The CPU emulation build of the same sources (`scripts/build-cuda.mjs`). */
export function emulatedCudaAddonPath(): string {
  return join(packageRoot, 'build-cuda', 'emulated', 'xlt_cuda.node');
}

const cache = new Map<string, CudaAddonLoad>();

/** Loads the addon at `path` once; never throws; a missing build reports the reason its build script recorded. */
export function loadCudaAddon(path = cudaAddonPath()): CudaAddonLoad {
  const hit = cache.get(path);
  if (hit) return hit;
  let load: CudaAddonLoad;
  if (!existsSync(path)) {
    const failure = join(dirname(path), 'build-failure.txt');
    const why = existsSync(failure) ? readFileSync(failure, 'utf8').trim() : `${path} does not exist (run \`node packages/backend-native/scripts/build-cuda.mjs --strict\`)`;
    load = { addon: null, reason: `CUDA addon not built: ${why}` };
  } else {
    try {
      load = { addon: createRequire(import.meta.url)(path) as CudaAddon, path };
    } catch (e) {
      load = { addon: null, reason: `CUDA addon not built: loading ${path} failed: ${(e as Error).message}` };
    }
  }
  cache.set(path, load);
  return load;
}
