import { describe, expect, it } from 'vitest';
import { normalArray, normalSampler, seededRandom, shuffled } from './random.js';

const moments = (xs: ArrayLike<number>) => {
  const values = Array.from(xs);
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return { mean, std: Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length) };
};

describe('seeded randomness', () => {
  it('repeats a uniform sequence for a seed and shuffles a copy', () => {
    const a = Array.from({ length: 5 }, seededRandom(3));
    expect(Array.from({ length: 5 }, seededRandom(3))).toEqual(a);
    expect(a.every((u) => u >= 0 && u < 1)).toBe(true);
    const items = [1, 2, 3, 4, 5, 6];
    expect(shuffled(items, seededRandom(1)).sort()).toEqual(items);
  });

  it('normalSampler draws standard normal values from a uniform source', () => {
    const xs = Array.from({ length: 20000 }, normalSampler(seededRandom(7)));
    const { mean, std } = moments(xs);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(std).toBeGreaterThan(0.975);
    expect(std).toBeLessThan(1.025);
    expect(xs.every(Number.isFinite)).toBe(true);
  });

  it('normalArray draws normal(0, std) values deterministically', () => {
    const a = normalArray(20001, 0.02, seededRandom(1));
    expect(a).toEqual(normalArray(20001, 0.02, seededRandom(1)));
    const { mean, std } = moments(a);
    expect(Math.abs(mean)).toBeLessThan(0.001);
    expect(std).toBeGreaterThan(0.0195);
    expect(std).toBeLessThan(0.0205);
    expect(a.every(Number.isFinite)).toBe(true);
  });
});
