import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeFloat64, encodeFloats, type FloatDtype } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { describe, expect, it } from 'vitest';
import { ChunkAccumulator } from './accumulate.js';
import { averageCheckpoints } from './average-checkpoints.js';
import { seededRandom, writeToyCheckpoint } from './testing/checkpoint-fixtures.js';

const SIZES = { F16: 2, BF16: 2, F32: 4, F64: 8 } as const;
const DTYPES = ['F32', 'BF16', 'F16', 'F64'] as const;

/** Random stored bytes with the awkward values mixed in: ±0, subnormals, huge, ±Infinity and NaN. */
function storedBytes(dtype: FloatDtype, n: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  const specials = [0, -0, 5e-324, 1e-40, -6e-8, 65504, 3e38, Infinity, -Infinity, NaN];
  const values = Array.from({ length: n }, (_, i) => (i % 11 === 5 ? specials[(i / 11) % specials.length | 0]! : (random() - 0.5) * 2 ** ((i % 9) - 4)));
  return encodeFloats(Float64Array.from(values), dtype);
}

/** The plain reference: decode to float64, start from +0, add `w * x` per input. */
function reference(inputs: readonly Uint8Array[], dtype: FloatDtype, weights: readonly number[]): Float64Array {
  const acc = new Float64Array(inputs[0]!.length / SIZES[dtype]);
  inputs.forEach((bytes, j) => {
    const x = decodeFloat64(bytes, dtype);
    for (let i = 0; i < acc.length; i++) acc[i]! += weights[j]! * x[i]!;
  });
  return acc;
}

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return a.length === b.length ? -1 : a.length;
}

describe('ChunkAccumulator', () => {
  it('uses the WebAssembly SIMD loops on this Node', () => {
    expect(new ChunkAccumulator(8, 64, 64).simd).toBe(true);
    expect(new ChunkAccumulator(8, 64, 64, { simd: false }).simd).toBe(false);
  });

  for (const dtype of DTYPES) {
    it(`accumulates ${dtype} bit for bit like the float64 reference, SIMD and JS, at every tail length`, () => {
      const weights = [0.25, 0.5, 0.125 + 1e-9];
      for (const n of [1, 3, 4, 5, 8, 37, 1001]) {
        const inputs = weights.map((_, j) => storedBytes(dtype, n, 100 * n + j));
        const want = reference(inputs, dtype, weights);
        for (const simd of [true, false]) {
          const sum = new ChunkAccumulator(n, n * SIZES[dtype], n * 8, { simd });
          inputs.forEach((bytes, j) => {
            const slot = sum.input.subarray(0, bytes.length);
            slot.set(bytes);
            sum.add(slot, dtype, weights[j]!, n, j === 0);
          });
          expect(sameBits(sum.acc, want), `n=${n} simd=${simd}`).toBe(-1);
        }
      }
    });
  }

  for (const outDtype of DTYPES) {
    it(`rounds to ${outDtype} exactly as encodeFloats does (SIMD and JS), at an offset into the output`, () => {
      for (const n of [1, 6, 1003]) {
        const values = decodeFloat64(storedBytes('F64', n, n), 'F64');
        const finite = values.map((v) => (Number.isNaN(v) ? 1.5 : v)); // NaN payloads are not specified
        const want = encodeFloats(finite, outDtype);
        for (const simd of [true, false]) {
          const sum = new ChunkAccumulator(n, 8 * n, 16 + 8 * n, { simd });
          sum.acc.set(finite);
          const at = SIZES[outDtype] * 2;
          const got = sum.encode(outDtype, n, at);
          expect(got.byteOffset - sum.output.byteOffset).toBe(at);
          expect(Buffer.from(got).equals(Buffer.from(want)), `n=${n} simd=${simd}`).toBe(true);
        }
      }
    });
  }

  it('averageCheckpoints writes the same bytes with and without SIMD, whatever the chunk size', async () => {
    const { dir, cleanup } = await tempDir('xlt-avg-simd-');
    try {
      for (const dtype of ['F32', 'BF16', 'F16'] as const) {
        const paths = [1, 2, 3].map((seed) => join(dir, `${dtype}-${seed}.safetensors`));
        await Promise.all(paths.map((p, i) => writeToyCheckpoint(p, i + 1, { dtype, tied: true, positionOffset: 0 })));
        const plan = paths.map((path, i) => ({ path, weight: i + 1 }));
        const outputs: Buffer[] = [];
        for (const [simd, chunkElements] of [[true, undefined], [false, undefined], [true, 7], [false, 7]] as const) {
          const out = join(dir, `out-${dtype}-${simd}-${chunkElements}.safetensors`);
          await averageCheckpoints(plan, out, { simd, ...(chunkElements ? { chunkElements } : {}) });
          outputs.push(await readFile(out));
        }
        for (const o of outputs.slice(1)) expect(o.equals(outputs[0]!), dtype).toBe(true);
      }
    } finally {
      await cleanup();
    }
  });
});
