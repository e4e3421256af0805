import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Shapes and rates the addon's encoder needs (HF config fields, plus the rows `nn.Embedding` keeps at zero gradient). */
export interface NativeShape {
  readonly layers: number;
  readonly hidden: number;
  readonly heads: number;
  readonly ffn: number;
  readonly vocab: number;
  readonly maxPos: number;
  readonly typeVocab: number;
  readonly eps: number;
  readonly hiddenDropout: number;
  readonly attnDropout: number;
  /** `padding_idx` of the word embedding (its row gets no gradient), -1 for none. */
  readonly wordPad: number;
  /** `padding_idx` of the position embedding (RoBERTa), -1 for none. */
  readonly posPad: number;
}

/** AdamW hyperparameters as the addon takes them. */
export interface NativeAdamW {
  readonly lr: number;
  readonly b1: number;
  readonly b2: number;
  readonly eps: number;
  readonly wd: number;
  readonly step: number;
}

/** One encoder in native memory (see `native/addon.cc`). */
export interface NativeEncoderHandle {
  /** The parameter arena, an external ArrayBuffer (no copy, outside the JS heap). */
  parameters(): ArrayBuffer;
  gradients(): ArrayBuffer;
  /** AdamW first and second moment arenas, allocated (zero) on first call. */
  moments(): [ArrayBuffer, ArrayBuffer];
  forward(ids: Int32Array, types: Int32Array, mask: Int32Array, pos: Int32Array, batchSize: number, sequenceLength: number, training: boolean, seed: number): Float32Array;
  backward(dHidden: Float32Array): void;
  zeroGradients(): void;
  scaleGradients(factor: number): void;
  gradientSquaredNorm(): number;
  /** Marks every word-embedding row as carrying a gradient (the addon otherwise tracks the rows a batch touched). */
  touchAllRows(): void;
  /** `segments` holds (offset, length, decay 0/1) triples in floats of the arena. */
  adamw(step: NativeAdamW, segments: Float64Array): void;
  dispose(): void;
}

/** The loaded addon's exports. */
export interface NativeAddon {
  NativeEncoder: new (shape: NativeShape, totalFloats: number, layout: Float64Array) => NativeEncoderHandle;
  setThreads(n: number): void;
  /** Row-major `C = alpha op(A) op(B) + beta C` (`A` is `[M, K]` after op, `B` `[K, N]`), threaded like the encoder. */
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number, A: Float32Array, B: Float32Array, beta: number, C: Float32Array): void;
  threads(): number;
  /**
   * Writes the multipliers of xlt's dropout rule (`dropoutMask` of `@xlt/plugin-api`) for elements `0 .. out.length`
   * of `site` under `seed` into `out`: the C++ port the encoder uses, exposed so a test can compare it with the TS rule.
   */
  dropoutMask(seed: number, site: number, rate: number, out: Float32Array): void;
}

/** The addon, or why it could not be loaded. */
export type AddonLoad = { readonly addon: NativeAddon; readonly path: string } | { readonly addon: null; readonly reason: string };

// OpenMP threads that spin-wait between kernels steal a shared 2-core machine from everything else; this package's README, "Threads".
process.env['OMP_WAIT_POLICY'] ??= 'PASSIVE';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where node-gyp puts the addon (`XLT_NATIVE_ADDON` overrides it). */
export function addonPath(): string {
  return process.env['XLT_NATIVE_ADDON'] ?? join(packageRoot, 'build', 'Release', 'xlt_native.node');
}

let cached: AddonLoad | undefined;

/** Loads the addon once; never throws; a missing build reports the reason the install script recorded. */
export function loadAddon(): AddonLoad {
  if (cached) return cached;
  const path = addonPath();
  if (!existsSync(path)) {
    const failure = join(packageRoot, 'build', 'build-failure.txt');
    const why = existsSync(failure) ? readFileSync(failure, 'utf8').trim() : `${path} does not exist (run \`npm run build:addon -w @xlt/backend-native\`)`;
    cached = { addon: null, reason: `native addon not built: ${why}` };
    return cached;
  }
  try {
    const addon = createRequire(import.meta.url)(path) as NativeAddon;
    cached = { addon, path };
  } catch (e) {
    cached = { addon: null, reason: `native addon not built: loading ${path} failed: ${(e as Error).message}` };
  }
  return cached;
}
