import { bfloat16Table, encodeFloats, float16Table, type FloatDtype } from '@xlt/plugin-api';
import { simdKernels, type SimdKernels } from './simd-kernels.js';

/*
 * The arithmetic of streaming averaging: `acc[i] (+)= w * x[i]` in float64 straight from the stored bytes, one
 * pass per input and chunk. F32, BF16 and F64 run as WebAssembly SIMD (simd-kernels.ts) when the bytes live in
 * its memory; these JS loops are the fallback, the F16 path (a 65536-entry table lookup) and the last < 4
 * elements of a chunk. Each loop is its own small function over one typed-array type, so V8 keeps it
 * monomorphic and optimises it to a tight machine loop.
 * The first input writes `w * x + 0` (not `w * x`) so that results are bit-identical to summing from +0:
 * -0 inputs give +0, as before.
 */

function setF32(acc: Float64Array, x: Float32Array, w: number, n: number): void {
  for (let i = 0; i < n; i++) acc[i] = w * x[i]! + 0;
}

function addF32(acc: Float64Array, x: Float32Array, w: number, n: number): void {
  for (let i = 0; i < n; i++) acc[i]! += w * x[i]!;
}

function setF64(acc: Float64Array, x: Float64Array, w: number, n: number): void {
  for (let i = 0; i < n; i++) acc[i] = w * x[i]! + 0;
}

function addF64(acc: Float64Array, x: Float64Array, w: number, n: number): void {
  for (let i = 0; i < n; i++) acc[i]! += w * x[i]!;
}

function setTable(acc: Float64Array, h: Uint16Array, table: Float32Array, w: number, n: number): void {
  for (let i = 0; i < n; i++) acc[i] = w * table[h[i]!]! + 0;
}

function addTable(acc: Float64Array, h: Uint16Array, table: Float32Array, w: number, n: number): void {
  for (let i = 0; i < n; i++) acc[i]! += w * table[h[i]!]!;
}

/**
 * Accumulates `w * value` of the `n` elements stored little-endian in `bytes` (8-byte aligned) into `acc`; with
 * `first` the accumulator is overwritten instead (no separate zero fill).
 */
export function accumulateStored(acc: Float64Array, bytes: Uint8Array, dtype: FloatDtype, w: number, n: number, first: boolean): void {
  const { buffer, byteOffset } = bytes;
  switch (dtype) {
    case 'F32': {
      const x = new Float32Array(buffer, byteOffset, n);
      return first ? setF32(acc, x, w, n) : addF32(acc, x, w, n);
    }
    case 'F64': {
      const x = new Float64Array(buffer, byteOffset, n);
      return first ? setF64(acc, x, w, n) : addF64(acc, x, w, n);
    }
    case 'F16':
    case 'BF16': {
      const h = new Uint16Array(buffer, byteOffset, n);
      const table = dtype === 'F16' ? float16Table() : bfloat16Table();
      return first ? setTable(acc, h, table, w, n) : addTable(acc, h, table, w, n);
    }
  }
}

/**
 * The scratch memory of one averaging run and the loops over it: a float64 accumulator of `elements`, an input
 * buffer the reads go to, and an output buffer the rounded chunks are gathered in, all in one fixed WebAssembly
 * memory when SIMD is available (so the kernels address the bytes `fs.read` wrote, with no copy), else ordinary
 * typed arrays.
 */
export class ChunkAccumulator {
  /** The accumulator; 16-byte aligned. */
  readonly acc: Float64Array;
  /** Where the reads go (8-byte aligned); hand views of it back to {@link add}. */
  readonly input: Uint8Array;
  /** Where {@link encode} writes (16-byte aligned). */
  readonly output: Uint8Array;
  readonly #simd: SimdKernels | null;

  constructor(elements: number, inputBytes: number, outputBytes: number, options: { simd?: boolean } = {}) {
    const align = (n: number): number => Math.ceil(n / 16) * 16;
    const accBytes = align(elements * 8);
    const total = accBytes + align(inputBytes) + outputBytes;
    this.#simd = options.simd === false ? null : simdKernels(total);
    const buffer = this.#simd ? this.#simd.memory.buffer : new ArrayBuffer(total);
    this.acc = new Float64Array(buffer, 0, elements);
    this.input = new Uint8Array(buffer, accBytes, inputBytes);
    this.output = new Uint8Array(buffer, accBytes + align(inputBytes), outputBytes);
  }

  /** True when the SIMD kernels run (false: WebAssembly SIMD unavailable or turned off). */
  get simd(): boolean {
    return this.#simd !== null;
  }

  /**
   * `acc (+)= w * x` over the first `n` elements stored little-endian as `dtype` in `bytes` (8-byte aligned);
   * with `first` the accumulator is overwritten (`w * x + 0`) instead of added to.
   */
  add(bytes: Uint8Array, dtype: FloatDtype, w: number, n: number, first: boolean): void {
    let done = 0;
    const simd = this.#simd;
    if (simd && dtype !== 'F16' && bytes.buffer === simd.memory.buffer) {
      done = n & ~3;
      simd.accumulate(dtype === 'F32' ? 'f32' : dtype === 'BF16' ? 'bf16' : 'f64', first, this.acc.byteOffset, bytes.byteOffset, w, done);
    }
    if (done < n) {
      const size = dtype === 'F64' ? 8 : dtype === 'F32' ? 4 : 2;
      accumulateStored(this.acc.subarray(done), bytes.subarray(done * size), dtype, w, n - done, first);
    }
  }

  /**
   * Rounds the first `n` accumulated values to `dtype` (once, to nearest even) into {@link output} at byte `at`
   * (a multiple of the element size) and returns those bytes.
   */
  encode(dtype: FloatDtype, n: number, at: number): Uint8Array {
    const { acc, output } = this;
    const size = dtype === 'F64' ? 8 : dtype === 'F32' ? 4 : 2;
    const out = output.subarray(at, at + n * size);
    if (dtype === 'F64') {
      new Float64Array(out.buffer, out.byteOffset, n).set(acc.subarray(0, n));
    } else if (dtype === 'F32' && this.#simd) {
      const done = n & ~3;
      this.#simd.demote(acc.byteOffset, out.byteOffset, done);
      const f = new Float32Array(out.buffer, out.byteOffset, n);
      for (let i = done; i < n; i++) f[i] = acc[i]!;
    } else {
      encodeFloats(acc, dtype, n, out);
    }
    return out;
  }
}

/** Index and value of the first NaN or infinity among the `n` stored elements, or undefined. */
export function firstNonFiniteStored(bytes: Uint8Array, dtype: FloatDtype, n: number): { index: number; value: number } | undefined {
  const { buffer, byteOffset } = bytes;
  const table = dtype === 'F16' ? float16Table() : dtype === 'BF16' ? bfloat16Table() : undefined;
  const x = table ? new Uint16Array(buffer, byteOffset, n) : dtype === 'F32' ? new Float32Array(buffer, byteOffset, n) : new Float64Array(buffer, byteOffset, n);
  for (let i = 0; i < n; i++) {
    const value = table ? table[x[i]!]! : x[i]!;
    if (!Number.isFinite(value)) return { index: i, value };
  }
  return undefined;
}
