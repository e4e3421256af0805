import { describe, expect, it } from 'vitest';
import { loadAddon, type NativeShape } from './addon.js';
import { arenaLayout } from './layout.js';
import { nativeShape } from './native-backend.js';
import { tinyConfig, tinyProvider } from './testing/tiny-models.js';

/**
 * Issue #20: no call from JavaScript can crash the process. Every bad argument to the addon's entry points is a
 * RangeError or TypeError naming it, thrown before the C++ code sizes or indexes anything with it.
 */
describe('the native addon checks its arguments', () => {
  const load = loadAddon();
  if (!load.addon) throw new Error(`${load.reason}. Build it with \`npm run build:addon -w @xlt/backend-native\`.`);
  const { NativeEncoder } = load.addon;
  const config = tinyConfig('bert');
  const provider = tinyProvider('bert');
  const shape = nativeShape(config, provider);
  const layout = arenaLayout(config, provider);
  const make = (s: Partial<NativeShape> = {}, total = layout.total, roles = layout.roles) => new NativeEncoder({ ...shape, ...s }, total, roles);

  it('accepts the real layout', () => {
    expect(() => make()).not.toThrow();
  });

  it.each([
    [{ heads: 0 }, /heads: expected a whole number in \[1, 32\], found 0/],
    [{ heads: 5 }, /heads: must divide hidden \(32\), found 5/],
    [{ hidden: -8 }, /hidden: expected a whole number in \[1, 65536\]/],
    [{ layers: 2.5 }, /layers: expected a whole number/],
    [{ vocab: Number.NaN }, /vocab: expected a whole number/],
    [{ eps: 0 }, /eps: must be positive/],
    [{ attnDropout: 1 }, /dropout rates must be in \[0, 1\)/],
    [{ wordPad: 40 }, /wordPad: expected a whole number in \[-1, 39\]/],
  ] as const)('refuses shape %o', (bad, message) => {
    expect(() => make(bad as Partial<NativeShape>)).toThrow(message);
  });

  it('refuses a layout whose tensors do not fit the arena: a large vocabulary over a small buffer', () => {
    expect(() => make({ vocab: 100_000 })).toThrow(/layout\[(0|1|2)\]: a tensor of \d+ floats at offset \d+(\.\d+)? does not fit in the parameter arena of \d+ floats/);
    expect(() => make({}, layout.total - 1)).toThrow(/does not fit in the parameter arena/);
    expect(() => make({}, 0)).toThrow(/total: expected a whole number of floats >= 1/);
  });

  it('refuses a batch of zero or negative size before reading the arrays', () => {
    const encoder = make();
    const ids = new Int32Array(2);
    for (const [B, T] of [[0, 2], [-1, -2], [1.5, 2]] as const) {
      expect(() => encoder.forward(ids, ids, ids, ids, B, T, false, 0)).toThrow(/batchSize: expected a whole number in \[1, /);
    }
    expect(() => encoder.forward(ids, ids, ids, ids, 1, 0, false, 0)).toThrow(/sequenceLength: expected a whole number in \[1, /);
  });
});

/**
 * Regressions found by the libFuzzer harness over the entry points (`fuzz/addon-entry-points.fuzz.cc`, run by
 * `npm run fuzz -w @xlt/backend-native`): each input is kept in `fuzz/regressions/`, and each case here is the same
 * bad call made from JavaScript. Before the fix every one reached undefined behaviour in C++ (a NaN, negative or huge
 * double cast to an integer type) or, for the AdamW segments, a write far outside the arenas.
 */
describe('the native addon refuses what the fuzzer found', () => {
  const load = loadAddon();
  if (!load.addon) throw new Error(`${load.reason}. Build it with \`npm run build:addon -w @xlt/backend-native\`.`);
  const addon = load.addon;
  const config = tinyConfig('bert');
  const provider = tinyProvider('bert');
  const layout = arenaLayout(config, provider);
  const make = () => new addon.NativeEncoder(nativeShape(config, provider), layout.total, layout.roles);
  const batch = { ids: Int32Array.of(1, 2), types: Int32Array.of(0, 0), mask: Int32Array.of(1, 1), pos: Int32Array.of(0, 1) };

  it('forward: a dropout seed that is not a non-negative safe integer (fuzz/regressions/forward-negative-seed)', () => {
    const encoder = make();
    for (const seed of [-12, Number.NaN, 2 ** 64, 0.5]) {
      expect(() => encoder.forward(batch.ids, batch.types, batch.mask, batch.pos, 1, 2, true, seed)).toThrow(RangeError);
      expect(() => encoder.forward(batch.ids, batch.types, batch.mask, batch.pos, 1, 2, true, seed)).toThrow(/seed: expected a non-negative safe integer/);
    }
    expect(() => encoder.forward(batch.ids, batch.types, batch.mask, batch.pos, 1, 2, true, 2 ** 53 - 1)).not.toThrow();
    encoder.dispose();
  });

  it('forward: attention mask values other than 0 and 1', () => {
    const encoder = make();
    expect(() => encoder.forward(batch.ids, batch.types, Int32Array.of(1, 2), batch.pos, 1, 2, false, 0)).toThrow(/attentionMask\[1\] = 2: expected 0 or 1/);
    expect(() => encoder.forward(batch.ids, batch.types, Int32Array.of(-1, 1), batch.pos, 1, 2, false, 0)).toThrow(RangeError);
    encoder.dispose();
  });

  it('gemm: sizes that are NaN, fractional or beyond 2^31 - 1 (fuzz/regressions/gemm-huge-m)', () => {
    const a = new Float32Array(4);
    for (const M of [2 ** 64, Number.NaN, 1.5, -1, 0]) {
      expect(() => addon.gemm(false, false, M, 2, 2, 1, a, a, 0, new Float32Array(4))).toThrow(/gemm: M, N and K must be positive whole numbers/);
    }
    const c = new Float32Array(4);
    addon.gemm(false, false, 2, 2, 2, 1, Float32Array.of(1, 0, 0, 1), Float32Array.of(1, 2, 3, 4), 0, c);
    expect([...c]).toEqual([1, 2, 3, 4]);
  });

  it('setThreads: a count that is not a whole number in [1, 4096] (fuzz/regressions/set-threads-huge)', () => {
    const before = addon.threads();
    for (const n of [2 ** 64, Number.NaN, 0, -3, 2.5, 1e6]) expect(() => addon.setThreads(n)).toThrow(/threads: expected a whole number in \[1, 4096\]/);
    expect(addon.threads()).toBe(before);
  });

  it('adamw: segments outside the arena, even where offset + length wraps around 2^64 (fuzz/regressions/adamw-segment-huge-offset, adamw-segment-wraparound)', () => {
    const encoder = make();
    const step = { lr: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.01, step: 1 };
    const fits = /segments\[0\]: .* do not fit in the parameter arena of \d+ floats/;
    for (const seg of [[2 ** 64, 16, 1], [2 ** 63, 2 ** 63 + 4096, 1], [-1, 16, 1], [0, Number.NaN, 1], [layout.total - 15, 16, 1], [0.5, 1, 0]]) {
      expect(() => encoder.adamw(step, Float64Array.from(seg))).toThrow(fits);
    }
    expect(() => encoder.adamw(step, Float64Array.of(0, 16))).toThrow(/segments: expected \(offset, length, decay\) triples, found 2 elements/);
    expect(() => encoder.adamw(step, Float64Array.of(0, 16, 0.5))).toThrow(/segments\[0\]: decay must be 0 or 1/);
    expect(() => encoder.adamw(step, Float64Array.of(layout.total - 16, 16, 1))).not.toThrow();
    encoder.dispose();
  });

  it('gemm: C sharing memory with A or B (two views of one ArrayBuffer)', () => {
    const buffer = new Float32Array(8);
    const A = buffer.subarray(0, 4), C = buffer.subarray(2, 6);
    expect(() => addon.gemm(false, false, 2, 2, 2, 1, A, new Float32Array(4), 0, C)).toThrow(/gemm: C shares memory with A/);
    expect(() => addon.gemm(false, false, 2, 2, 2, 1, A, new Float32Array(4), 0, A)).toThrow(/gemm: C shares memory with A/);
    expect(() => addon.gemm(false, false, 2, 2, 2, 1, new Float32Array(4), C, 0, A)).toThrow(/gemm: C shares memory with B/);
    expect(() => addon.gemm(false, false, 2, 2, 2, 1, A, A, 0, buffer.subarray(4, 8))).not.toThrow();
  });

  it('constructor: tensors of the layout that overlap, and an eps that is infinite as a float32', () => {
    const roles = Float64Array.from(layout.roles);
    roles[1] = roles[0] + 16; // the position table inside the word table
    expect(() => new addon.NativeEncoder(nativeShape(config, provider), layout.total, roles)).toThrow(/layout\[0\] and layout\[1\]: .* overlap/);
    expect(() => new addon.NativeEncoder({ ...nativeShape(config, provider), eps: 1e300 }, layout.total, layout.roles)).toThrow(/eps: must be positive and finite/);
  });

  it('constructor and adamw: a shape or step that is not an object is a TypeError', () => {
    expect(() => new addon.NativeEncoder(undefined as never, layout.total, layout.roles)).toThrow(TypeError);
    expect(() => new addon.NativeEncoder(undefined as never, layout.total, layout.roles)).toThrow(/shape: expected an object/);
    const encoder = make();
    expect(() => encoder.adamw(null as never, Float64Array.of(0, 16, 1))).toThrow(/step: expected an object/);
    encoder.dispose();
  });

  it('adamw: hyperparameters torch.optim.AdamW refuses, and a step below 1', () => {
    const encoder = make();
    const ok = { lr: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.01, step: 1 };
    const seg = Float64Array.of(0, 16, 1);
    for (const [bad, message] of [
      [{ lr: Number.NaN }, /adamw: lr must be a finite number >= 0/],
      [{ lr: -1 }, /adamw: lr must be a finite number >= 0/],
      [{ b1: 1 }, /adamw: b1 must be in \[0, 1\)/],
      [{ b2: -0.1 }, /adamw: b2 must be in \[0, 1\)/],
      [{ eps: Number.POSITIVE_INFINITY }, /adamw: eps must be a finite number >= 0/],
      [{ wd: -0.01 }, /adamw: wd must be a finite number >= 0/],
      [{ step: 0 }, /adamw: step must be a whole number >= 1/],
      [{ step: 1.5 }, /adamw: step must be a whole number >= 1/],
    ] as const) {
      expect(() => encoder.adamw({ ...ok, ...bad }, seg)).toThrow(message);
    }
    encoder.dispose();
  });
});
