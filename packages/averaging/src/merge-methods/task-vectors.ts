import { mix32, type MergeTensorInputs, type MergeTensorValues } from '@xlt/plugin-api';

/*
 * The shared math of the task-vector methods (task arithmetic, TIES, DARE), after mergekit's
 * `GeneralizedTaskArithmeticMerge`: each model's task vector `delta_j = theta_j - base` is sparsified (TIES: by
 * magnitude, DARE: at random), weighted, optionally reduced to the elements that agree with an elected sign, summed,
 * optionally normalised, scaled by lambda and added to the base. Task vectors are never stored: each element's
 * delta is recomputed from the inputs where it is needed, so a merge holds the inputs and the output, plus one
 * float64 copy of a tensor's magnitudes while TIES looks for its top-k threshold.
 */

/** Maps one element's task-vector value to its sparsified value; called once per element, in index order. */
export type Sparsifier = (delta: number, index: number) => number;

const keepAll: Sparsifier = (delta) => delta;

/**
 * TIES's trim: keeps the `k = max(1, floor(density * n))` elements of largest magnitude of `model - base` and
 * zeroes the rest; among equal magnitudes the lower index is kept first (a stable sort, so the result does not
 * depend on the sort algorithm). mergekit fails when k would be 0; here a tiny tensor keeps its largest element.
 */
export function magnitudeTrim(model: MergeTensorValues, base: MergeTensorValues, density: number, scratch: Float64Array): Sparsifier {
  const n = model.length;
  if (density >= 1) return keepAll;
  const k = Math.max(1, Math.floor(density * n));
  const magnitudes = scratch.subarray(0, n);
  for (let i = 0; i < n; i++) magnitudes[i] = Math.abs(model[i]! - base[i]!);
  magnitudes.sort();
  const threshold = magnitudes[n - k]!;
  let above = 0;
  for (let i = n - 1; i >= 0 && magnitudes[i]! > threshold; i--) above++;
  let atThreshold = k - above;
  return (delta) => {
    const m = Math.abs(delta);
    if (m > threshold) return delta;
    if (m === threshold && atThreshold > 0) {
      atThreshold--;
      return delta;
    }
    return 0;
  };
}

/** FNV-1a over the UTF-8 bytes of a tensor name: a 32-bit number that keys the name into DARE's mask rule. */
export function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(name)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h >>> 0;
}

/**
 * The key of DARE's mask of one model's copy of one tensor, from (seed, model index, tensor name), in 32-bit
 * unsigned arithmetic with plugin-api's `mix32`: with `lo`/`hi` the low and high 32 bits of the seed,
 * `key = mix32(mix32(mix32(mix32(lo ^ 0x9e3779b9) ^ hi) ^ mix32(model ^ 0x85ebca6b)) ^ nameHash(name))`.
 * Element `i` (row-major) draws `bits = mix32(key ^ mix32(i ^ 0xc2b2ae35))` and is kept iff
 * `bits < floor(density * 2^32)`: a counter-based rule, so the mask does not depend on chunking, threads or the
 * order of tensors, and `reference/merge_methods_reference.py` transcribes it exactly (integer comparisons only).
 */
export function dareKey(seed: number, model: number, name: string): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  return mix32(mix32(mix32(mix32(lo ^ 0x9e3779b9) ^ hi) ^ mix32(model ^ 0x85ebca6b)) ^ nameHash(name));
}

/**
 * DARE's drop and rescale (Yu et al. 2024): each element is dropped with probability `1 - density` by the
 * counter-based rule of {@link dareKey}; survivors are divided by `density` when `rescale` (mergekit's default), so
 * the task vector keeps its expected value.
 */
export function dareDrop(seed: number, model: number, name: string, density: number, rescale: boolean): Sparsifier {
  if (density >= 1) return keepAll;
  const key = dareKey(seed, model, name);
  const threshold = Math.floor(density * 4294967296);
  return (delta, index) => (mix32(key ^ mix32(index ^ 0xc2b2ae35)) < threshold ? (rescale ? delta / density : delta) : 0);
}

/** How sparsified task vectors are combined. */
export interface CombineOptions {
  /** TIES sign consensus: keep only the elements whose sign agrees with the sign of the weighted sum. */
  readonly consensus: boolean;
  readonly normalize: boolean;
  readonly lambda: number;
}

/**
 * `out = base + lambda * mix`, per element, after mergekit: `wd_j = weight_j * sparsified delta_j`;
 * without consensus `mix = sum_j wd_j`, divided when normalising by `sum_j weight_j` (1 when below 1e-8 in
 * magnitude); with consensus the elected sign is `+` when `sum_j wd_j >= 0` else `-`, `mix` sums only the `wd_j`
 * of that sign (zeros agree with neither), and normalising divides by the weights of those models (1 when none),
 * which for unit weights is the paper's disjoint mean.
 */
export function combineTaskVectors(inputs: MergeTensorInputs, sparsifiers: readonly Sparsifier[], options: CombineOptions, out: Float64Array): void {
  const { models, weights } = inputs;
  const base = inputs.base!;
  const count = models.length;
  const weighted = new Float64Array(count);
  let weightSum = 0;
  for (const w of weights) weightSum += w;
  const plainDivisor = Math.abs(weightSum) < 1e-8 ? 1 : weightSum;
  for (let i = 0; i < out.length; i++) {
    const b = base[i]!;
    let mix = 0;
    let divisor = plainDivisor;
    if (!options.consensus) {
      for (let j = 0; j < count; j++) mix += weights[j]! * sparsifiers[j]!(models[j]![i]! - b, i);
    } else {
      let total = 0;
      for (let j = 0; j < count; j++) {
        weighted[j] = weights[j]! * sparsifiers[j]!(models[j]![i]! - b, i);
        total += weighted[j]!;
      }
      const sign = total >= 0 ? 1 : -1;
      divisor = 0;
      for (let j = 0; j < count; j++) {
        if (Math.sign(weighted[j]!) === sign) {
          mix += weighted[j]!;
          divisor += weights[j]!;
        }
      }
      if (divisor === 0) divisor = 1;
    }
    if (options.normalize) mix /= divisor;
    out[i] = b + options.lambda * mix;
  }
}
