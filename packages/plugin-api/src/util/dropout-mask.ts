import { XltError } from '../errors.js';

/**
 * xlt's backend-independent dropout rule. Every training backend (TF.js, native, a future CUDA one) and the PyTorch
 * reference (`reference/backend_reference.py`) draw the masks of one encoder forward from it, so one `dropoutSeed`
 * gives the same masks everywhere, and `backward` replays them without storing them.
 *
 * The rule, in 32-bit unsigned integer arithmetic (every product wraps modulo 2^32):
 * - `mix32(x)`: `x ^= x >>> 16; x *= 0x7feb352d; x ^= x >>> 15; x *= 0x846ca68b; x ^= x >>> 16` (a bijection,
 *   "lowbias32").
 * - The seed is a non-negative integer below 2^53 (the trainer derives one per step and micro-batch, so the step
 *   is folded into it): `lo = seed mod 2^32`, `hi = floor(seed / 2^32)`.
 * - Key of a site: `key = mix32(mix32(mix32(lo ^ 0x9e3779b9) ^ hi) ^ mix32(site ^ 0x85ebca6b))`.
 * - Bits of element `i` (its row-major index inside the site's tensor): `bits = mix32(key ^ mix32(i ^ 0xc2b2ae35))`.
 * - Kept iff `bits >= floor(p * 2^32)` (integer comparison: no float rounding differs between languages); a kept
 *   element is multiplied by `float32(1 / (1 - p))` (computed in float64, rounded once), a dropped one becomes 0.
 *
 * Sites, in this order ({@link dropoutSite}): 0 is the embeddings' output (after their LayerNorm, `[B, T, H]`); then
 * per layer `l`, `1 + 3l` the attention probabilities (after softmax, `[B, heads, T, T]`), `2 + 3l` the attention
 * output projection (before the residual, `[B, T, H]`), `3 + 3l` the feed-forward output projection (before the
 * residual, `[B, T, H]`). A site whose rate is 0 draws nothing but keeps its number.
 */
export function mix32(x: number): number {
  x >>>= 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Site numbers of the dropout rule (see {@link mix32}'s documentation of the whole rule). */
export const dropoutSite = {
  embeddings: 0,
  attentionProbs: (layer: number): number => 1 + 3 * layer,
  attentionOutput: (layer: number): number => 2 + 3 * layer,
  ffnOutput: (layer: number): number => 3 + 3 * layer,
  /** Number of sites of an encoder with `layers` layers. */
  count: (layers: number): number => 1 + 3 * layers,
} as const;

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new XltError(`dropout seed must be a non-negative safe integer, found ${seed}`);
}

function checkRate(rate: number): void {
  if (!(rate >= 0 && rate < 1)) throw new XltError(`dropout rate must be in [0, 1), found ${rate}`);
}

/** The key of one site under one seed. */
export function dropoutSiteKey(seed: number, site: number): number {
  checkSeed(seed);
  if (!Number.isInteger(site) || site < 0 || site > 0xffffffff) throw new XltError(`dropout site must be a 32-bit unsigned integer, found ${site}`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  return mix32(mix32(mix32(lo ^ 0x9e3779b9) ^ hi) ^ mix32(site ^ 0x85ebca6b));
}

/** The 32 random bits of element `index` under a site key. */
export function dropoutBits(key: number, index: number): number {
  return mix32(key ^ mix32(index ^ 0xc2b2ae35));
}

/** Elements whose bits are below this are dropped: `floor(rate * 2^32)`. */
export function dropoutThreshold(rate: number): number {
  checkRate(rate);
  return Math.floor(rate * 4294967296);
}

/** What a kept element is multiplied by: `float32(1 / (1 - rate))`. */
export function dropoutScale(rate: number): number {
  checkRate(rate);
  return Math.fround(1 / (1 - rate));
}

/**
 * The multiplier of elements `offset .. offset + count` of one site: {@link dropoutScale} where kept, 0 where
 * dropped (all ones when `rate` is 0). Multiply the site's tensor by it, in forward and again in backward.
 */
export function dropoutMask(seed: number, site: number, count: number, rate: number, offset = 0): Float32Array {
  const out = new Float32Array(count);
  if (rate === 0) {
    checkSeed(seed);
    return out.fill(1);
  }
  const key = dropoutSiteKey(seed, site);
  const threshold = dropoutThreshold(rate);
  const scale = dropoutScale(rate);
  for (let i = 0; i < count; i++) out[i] = dropoutBits(key, offset + i) >= threshold ? scale : 0;
  return out;
}
