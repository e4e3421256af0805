import { bfloat16Table, float16Table, type FloatDtype } from '@xlt/core';

/*
 * The arithmetic of streaming averaging: `acc[i] (+)= w * x[i]` in float64 straight from the stored bytes, one
 * pass per input and chunk. Each loop is its own small function over one typed-array type, so V8 keeps it
 * monomorphic and optimises it to a tight machine loop; F16 and BF16 are decoded by a 65536-entry table lookup.
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
