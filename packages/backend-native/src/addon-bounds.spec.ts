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
