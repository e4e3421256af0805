import { describe, expect, it } from 'vitest';
import {
  bf16BitsToNumber,
  bfloat16Table,
  float16Table,
  decodeFloat32,
  decodeFloat64,
  encodeFloats,
  f16BitsToNumber,
  f32BitsToF16Bits,
  numberToBf16Bits,
  numberToF16Bits,
} from './float-convert.js';

/** Independent reference: the nearest representable value by brute force over every finite bit pattern. */
const decoded = new Map<(bits: number) => number, Float64Array>();
function nearestBits(x: number, decode: (bits: number) => number, maxFiniteExp: number): number {
  let table = decoded.get(decode);
  if (!table) decoded.set(decode, (table = Float64Array.from({ length: 65536 }, (_, b) => decode(b))));
  let best = -1;
  let bestErr = Infinity;
  for (let b = 0; b < 65536; b++) {
    const v = table[b]!;
    if (!Number.isFinite(v) || Object.is(v, -0)) continue;
    const err = Math.abs(v - x);
    if (err < bestErr || (err === bestErr && (b & 1) === 0 && (best & 1) === 1)) {
      bestErr = err;
      best = b;
    }
  }
  void maxFiniteExp;
  // A value that rounds to zero keeps its sign.
  return best === 0 && x < 0 ? 0x8000 : best;
}

/** Half-format value from first principles (sign, exponent, mantissa), not from the implementation's table. */
function halfValue(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function bfloatValue(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 7) & 0xff;
  const mant = bits & 0x7f;
  if (exp === 0) return sign * mant * 2 ** -133;
  if (exp === 255) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 128) * 2 ** (exp - 127);
}

describe('F16 and BF16 decoding', () => {
  it('decodes every F16 bit pattern like the IEEE definition', () => {
    for (let b = 0; b < 65536; b++) {
      const want = halfValue(b);
      if (Number.isNaN(want)) expect(f16BitsToNumber(b)).toBeNaN();
      else expect(f16BitsToNumber(b)).toBe(want);
    }
  });
  it('decodes every BF16 bit pattern like the IEEE definition', () => {
    for (let b = 0; b < 65536; b++) {
      const want = bfloatValue(b);
      if (Number.isNaN(want)) expect(bf16BitsToNumber(b)).toBeNaN();
      else expect(bf16BitsToNumber(b)).toBe(want);
    }
  });
  it('the shared decode tables hold every F16 and BF16 bit pattern like the IEEE definition', () => {
    const half = float16Table();
    const bfloat = bfloat16Table();
    expect(float16Table()).toBe(half);
    expect(bfloat16Table()).toBe(bfloat);
    for (let b = 0; b < 65536; b++) {
      for (const [got, want] of [[half[b]!, halfValue(b)], [bfloat[b]!, bfloatValue(b)]] as const) {
        if (Number.isNaN(want)) expect(got).toBeNaN();
        else expect(got).toBe(want);
      }
    }
  });
  it('round-trips every finite F16 value through float32 bits', () => {
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    for (let b = 0; b < 65536; b++) {
      if (((b >> 10) & 0x1f) === 31) continue;
      f[0] = halfValue(b);
      expect(f32BitsToF16Bits(u[0]!)).toBe(b);
    }
  });
});

describe('rounding to F16 and BF16', () => {
  it('rounds random float64 values to the nearest F16, ties to even (brute-force reference)', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const values: number[] = [];
    for (let i = 0; i < 150; i++) values.push((rand() - 0.5) * 2 ** Math.floor(rand() * 40 - 26));
    // Exact ties between neighbours, and a tie that a float32 double rounding would break the wrong way.
    values.push(1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -25, 3 * 2 ** -25, 1 + 2 ** -11 + 2 ** -40);
    for (const x of values) expect(numberToF16Bits(x), `x=${x}`).toBe(nearestBits(x, halfValue, 15));
  });
  it('rounds random float64 values to the nearest BF16, ties to even (brute-force reference)', () => {
    let seed = 11;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const values: number[] = [];
    for (let i = 0; i < 150; i++) values.push((rand() - 0.5) * 2 ** Math.floor(rand() * 60 - 30));
    values.push(1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -30, -(1 + 2 ** -8 + 2 ** -30));
    for (const x of values) expect(numberToBf16Bits(x), `x=${x}`).toBe(nearestBits(x, bfloatValue, 127));
  });
  it('overflows to infinity and keeps NaN', () => {
    expect(numberToF16Bits(70000)).toBe(0x7c00);
    expect(numberToF16Bits(-70000)).toBe(0xfc00);
    expect(halfValue(numberToF16Bits(NaN))).toBeNaN();
    expect(bfloatValue(numberToBf16Bits(NaN))).toBeNaN();
    expect(numberToBf16Bits(Infinity)).toBe(0x7f80);
  });
});

describe('bulk encode/decode', () => {
  it('encodes and decodes F32, F64, F16 and BF16 arrays', () => {
    const values = new Float64Array([0, -1.5, 3.25, 65504, 2 ** -24, -0.0009765625]);
    for (const dtype of ['F16', 'BF16', 'F32', 'F64'] as const) {
      const bytes = encodeFloats(values, dtype);
      const back = decodeFloat64(bytes, dtype);
      const back32 = decodeFloat32(bytes, dtype);
      for (let i = 0; i < values.length; i++) {
        const tol = dtype === 'BF16' ? Math.abs(values[i]!) * 2 ** -8 : 0;
        expect(Math.abs(back[i]! - values[i]!)).toBeLessThanOrEqual(tol);
        expect(back32[i]).toBe(Math.fround(back[i]!));
      }
    }
  });
  it('decodes unaligned byte views', () => {
    const bytes = new Uint8Array(9);
    bytes.set(encodeFloats([1.5, -2], 'F32'), 1);
    expect([...decodeFloat32(bytes.subarray(1), 'F32')]).toEqual([1.5, -2]);
  });
});
