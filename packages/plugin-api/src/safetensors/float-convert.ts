import { DTYPE_SIZES, type FloatDtype } from './dtype.js';

/*
 * Conversions between the stored float formats and JS numbers. Storage is little-endian; typed arrays use the
 * host order, so a big-endian host is refused once rather than silently producing wrong weights.
 */
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('xlt safetensors: big-endian hosts are not supported (safetensors data is little-endian).');
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

let f16Table: Float32Array | undefined;

/** Every F16 bit pattern as a float32, built once (256 KiB): decoding is then one lookup per element. */
function halfTable(): Float32Array {
  if (f16Table) return f16Table;
  const table = new Float32Array(65536);
  const bits = new Uint32Array(table.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) table[h] = (sign ? -1 : 1) * mant * 2 ** -24;
    else if (exp === 31) bits[h] = (sign | 0x7f800000 | (mant << 13)) >>> 0;
    else bits[h] = (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  }
  f16Table = table;
  return table;
}

let bf16Table: Float32Array | undefined;

/**
 * Every F16 bit pattern as a float32 (index = the 16 bits), built once: streaming code decodes a chunk with one
 * lookup per element. Shared by all callers: read it, never write it.
 */
export function float16Table(): Float32Array {
  return halfTable();
}

/**
 * Every BF16 bit pattern as a float32 (index = the 16 bits, NaN payloads kept), built once (256 KiB): one
 * lookup per element instead of a bit shift through a scratch view. Shared by all callers: read it, never write it.
 */
export function bfloat16Table(): Float32Array {
  if (bf16Table) return bf16Table;
  const table = new Float32Array(65536);
  const bits = new Uint32Array(table.buffer);
  for (let h = 0; h < 65536; h++) bits[h] = h << 16;
  bf16Table = table;
  return table;
}

/** One F16 bit pattern as a number. */
export function f16BitsToNumber(bits: number): number {
  return halfTable()[bits & 0xffff]!;
}

/** One BF16 bit pattern as a number. */
export function bf16BitsToNumber(bits: number): number {
  u32Scratch[0] = (bits & 0xffff) << 16;
  return f32Scratch[0]!;
}

/** Float32 bit pattern to F16 bits, rounding to nearest, ties to even; overflow gives infinity, NaN stays NaN. */
export function f32BitsToF16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 112;
  if (e >= 31) return sign | 0x7c00;
  if (e >= 1) {
    let half = sign | (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (half & 1))) half++;
    return half;
  }
  // Subnormal result: shift the full significand; a carry into the exponent field gives the smallest normal.
  const shift = 14 - e;
  if (shift > 24) return sign;
  const m = mant | 0x800000;
  let half = m >>> shift;
  const rest = m & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && (half & 1))) half++;
  return sign | half;
}

/** Float32 bit pattern to BF16 bits, rounding to nearest, ties to even; NaN stays a (quiet) NaN. */
export function f32BitsToBf16Bits(x: number): number {
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/**
 * Float32 bits of `value` rounded to odd: exact when representable, else the neighbour whose last bit is 1.
 * Rounding float64 to float32 this way and then to F16/BF16 to nearest-even gives the correctly rounded result
 * (no double-rounding error), because float32 keeps at least two more bits than either.
 */
function f64ToF32BitsRoundToOdd(value: number): number {
  f32Scratch[0] = value;
  let bits = u32Scratch[0]!;
  const rounded = f32Scratch[0]!;
  if (rounded !== value && Number.isFinite(rounded) && !Number.isNaN(value) && (bits & 1) === 0) {
    bits = Math.abs(rounded) > Math.abs(value) ? bits - 1 : bits + 1;
  }
  return bits >>> 0;
}

/** Rounds a number to F16 bits (to nearest, ties to even, single rounding from float64). */
export function numberToF16Bits(value: number): number {
  return f32BitsToF16Bits(f64ToF32BitsRoundToOdd(value));
}

/** Rounds a number to BF16 bits (to nearest, ties to even, single rounding from float64). */
export function numberToBf16Bits(value: number): number {
  return f32BitsToBf16Bits(f64ToF32BitsRoundToOdd(value));
}

/** Element count of `bytes` as `dtype`, which must divide exactly. */
function countOf(bytes: Uint8Array, size: number): number {
  if (bytes.byteLength % size !== 0) throw new RangeError(`byte length ${bytes.byteLength} is not a multiple of ${size}`);
  return bytes.byteLength / size;
}

/** Typed-array views need aligned offsets; copy when the bytes are not aligned. */
function aligned(bytes: Uint8Array, size: number): Uint8Array {
  return bytes.byteOffset % size === 0 ? bytes : bytes.slice();
}

/**
 * Decodes little-endian float bytes of `dtype` into `out` (or a new array), as float64 values.
 * `out` may be longer than needed; the first `bytes.length / size` entries are written.
 */
export function decodeFloat64(bytes: Uint8Array, dtype: FloatDtype, out?: Float64Array): Float64Array {
  const n = countOf(bytes, DTYPE_SIZES[dtype]);
  return decodeInto(bytes, dtype, out ?? new Float64Array(n), n);
}

/** Decodes little-endian float bytes of `dtype` into a Float32Array (F64 is rounded to nearest float32). */
export function decodeFloat32(bytes: Uint8Array, dtype: FloatDtype, out?: Float32Array): Float32Array {
  const n = countOf(bytes, DTYPE_SIZES[dtype]);
  return decodeInto(bytes, dtype, out ?? new Float32Array(n), n);
}

/** The first `n` values of `bytes` as `dtype`, written into `target` (converted to its element type). */
function decodeInto<T extends Float32Array | Float64Array>(bytes: Uint8Array, dtype: FloatDtype, target: T, n: number): T {
  const src = aligned(bytes, DTYPE_SIZES[dtype]);
  if (dtype === 'F64' || dtype === 'F32') {
    // `set` across element types converts each value (float64 to float32 rounds to nearest, ties to even).
    target.set(dtype === 'F64' ? new Float64Array(src.buffer, src.byteOffset, n) : new Float32Array(src.buffer, src.byteOffset, n));
    return target;
  }
  const h = new Uint16Array(src.buffer, src.byteOffset, n);
  if (dtype === 'F16') {
    const table = halfTable();
    for (let i = 0; i < n; i++) target[i] = table[h[i]!]!;
  } else if (target instanceof Float32Array) {
    // BF16 is the high half of a float32: write the bits straight into the output.
    const u = new Uint32Array(target.buffer, target.byteOffset, n);
    for (let i = 0; i < n; i++) u[i] = h[i]! << 16;
  } else {
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    for (let i = 0; i < n; i++) {
      u[0] = h[i]! << 16;
      target[i] = f[0]!;
    }
  }
  return target;
}

/**
 * Encodes numbers as little-endian `dtype` bytes, rounding to nearest, ties to even (a single rounding, also
 * from float64 to F16/BF16). `count` limits how many leading values are encoded; `out` receives the bytes.
 */
export function encodeFloats(
  values: Float32Array | Float64Array | readonly number[],
  dtype: FloatDtype,
  count = values.length,
  out?: Uint8Array,
): Uint8Array {
  const bytes = out ?? new Uint8Array(count * DTYPE_SIZES[dtype]);
  if (bytes.byteOffset % DTYPE_SIZES[dtype] !== 0) throw new RangeError('encodeFloats: output buffer is not aligned');
  if (dtype === 'F64') {
    const f = new Float64Array(bytes.buffer, bytes.byteOffset, count);
    for (let i = 0; i < count; i++) f[i] = values[i]!;
  } else if (dtype === 'F32') {
    const f = new Float32Array(bytes.buffer, bytes.byteOffset, count);
    for (let i = 0; i < count; i++) f[i] = values[i]!;
  } else {
    const h = new Uint16Array(bytes.buffer, bytes.byteOffset, count);
    const fromF32 = values instanceof Float32Array;
    if (fromF32) {
      const u = new Uint32Array(values.buffer, values.byteOffset, count);
      const conv = dtype === 'F16' ? f32BitsToF16Bits : f32BitsToBf16Bits;
      for (let i = 0; i < count; i++) h[i] = conv(u[i]!);
    } else {
      const conv = dtype === 'F16' ? numberToF16Bits : numberToBf16Bits;
      for (let i = 0; i < count; i++) h[i] = conv(values[i]!);
    }
  }
  return bytes;
}
