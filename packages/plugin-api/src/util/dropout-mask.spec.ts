import { describe, expect, it } from 'vitest';
import { dropoutBits, dropoutMask, dropoutScale, dropoutSite, dropoutSiteKey, dropoutThreshold, mix32 } from './dropout-mask.js';

/** An independent BigInt implementation of the documented rule, to pin the 32-bit arithmetic of the fast one. */
const M = 0xffffffffn;
function mixBig(x: bigint): bigint {
  x &= M;
  x ^= x >> 16n;
  x = (x * 0x7feb352dn) & M;
  x ^= x >> 15n;
  x = (x * 0x846ca68bn) & M;
  x ^= x >> 16n;
  return x;
}
function bitsBig(seed: bigint, site: bigint, index: bigint): bigint {
  const key = mixBig(mixBig(mixBig((seed & M) ^ 0x9e3779b9n) ^ (seed >> 32n)) ^ mixBig(site ^ 0x85ebca6bn));
  return mixBig(key ^ mixBig(index ^ 0xc2b2ae35n));
}

describe('dropout mask rule', () => {
  it('agrees with a BigInt implementation of the documented rule, for seeds below and above 2^32', () => {
    for (const seed of [0, 1, 12345, 4294967295, 2 ** 33 + 77, 2 ** 52 + 9]) {
      for (const site of [0, 1, 5, 36]) {
        const key = dropoutSiteKey(seed, site);
        for (const index of [0, 1, 2, 1000, 2 ** 31 + 5, 4294967295]) {
          expect(dropoutBits(key, index)).toBe(Number(bitsBig(BigInt(seed), BigInt(site), BigInt(index))));
        }
      }
    }
    expect(mix32(0)).toBe(0);
    expect(mix32(1)).toBe(Number(mixBig(1n)));
  });

  it('drops at the configured rate, scales kept elements by float32(1/(1-p)), and offsets index into the site', () => {
    const p = 0.1;
    const mask = dropoutMask(7, dropoutSite.attentionProbs(2), 100_000, p);
    const dropped = mask.filter((x) => x === 0).length;
    // 1e5 draws: the fraction's standard deviation is 0.00095; 0.004 is over 4 sigma.
    expect(Math.abs(dropped / mask.length - p)).toBeLessThan(0.004);
    expect(new Set(mask)).toEqual(new Set([0, Math.fround(1 / 0.9)]));
    expect(dropoutMask(7, 7, 50, p, 100)).toEqual(dropoutMask(7, 7, 150, p).subarray(100));
    expect(dropoutThreshold(0.5)).toBe(2 ** 31);
    expect(dropoutScale(0.1)).toBe(Math.fround(1 / 0.9));
  });

  it('differs between seeds and between sites, repeats for the same ones, and is all ones at rate 0', () => {
    const a = dropoutMask(3, 1, 1000, 0.5);
    expect(dropoutMask(3, 1, 1000, 0.5)).toEqual(a);
    expect(dropoutMask(4, 1, 1000, 0.5)).not.toEqual(a);
    expect(dropoutMask(3, 2, 1000, 0.5)).not.toEqual(a);
    expect(dropoutMask(3 + 2 ** 32, 1, 1000, 0.5)).not.toEqual(a);
    expect([...dropoutMask(3, 1, 10, 0)]).toEqual(Array(10).fill(1));
    expect(dropoutSite.count(12)).toBe(37);
    expect([dropoutSite.embeddings, dropoutSite.attentionProbs(0), dropoutSite.attentionOutput(0), dropoutSite.ffnOutput(0), dropoutSite.attentionProbs(1)]).toEqual([0, 1, 2, 3, 4]);
  });

  it('rejects seeds and rates outside the rule', () => {
    expect(() => dropoutMask(-1, 0, 4, 0.1)).toThrow('non-negative safe integer');
    expect(() => dropoutMask(1.5, 0, 4, 0.1)).toThrow('non-negative safe integer');
    expect(() => dropoutMask(1, 0, 4, 1)).toThrow('[0, 1)');
  });
});
