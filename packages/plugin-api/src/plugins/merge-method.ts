import type { z } from 'zod';
import type { Plugin } from './plugin.js';

/**
 * The values of one tensor handed to a {@link MergeMethod}, row-major. Tensors stored in 32 bits or fewer (F16,
 * BF16, F32) arrive as `Float32Array` (exact, and half the memory of float64); F64 tensors as `Float64Array`.
 */
export type MergeTensorValues = Float32Array | Float64Array;

/** Every input's copy of one float tensor, as the executor hands it to {@link MergeMethod.mergeTensor}. */
export interface MergeTensorInputs {
  /** The tensor's name in the checkpoints, e.g. `bert.encoder.layer.0.output.dense.weight`. */
  readonly name: string;
  readonly shape: readonly number[];
  /** The chosen checkpoints' copies, in plan order (a path given twice is one model with the summed weight). */
  readonly models: readonly MergeTensorValues[];
  /** The plan's weights, in the same order, as given (not normalised): each method says how it uses them. */
  readonly weights: readonly number[];
  /** The pretrained model's copy, for methods whose {@link MergeMethod.base} is `required`; else undefined. */
  readonly base?: MergeTensorValues;
}

/**
 * Extension point: a merge method in the mergekit style, where "the loader streams, the method only does math".
 * The executor (`mergeCheckpoints` in `@xlt/averaging`) opens the checkpoints, checks that names and shapes agree,
 * validates the parameters, refuses a missing base before writing anything, then calls {@link mergeTensor} once
 * per float tensor with every input's copy of that tensor, and writes the result atomically. Non-float tensors
 * (position ids, ...) are copied by the executor. Whole-tensor statistics (a top-k threshold, norms, cosines) are
 * therefore the method's own business: it sees one whole tensor at a time, never the whole model.
 *
 * Ids are mergekit's `merge_method` names (`ties`, `dare_linear`, ...) so that a mergekit YAML names them as is.
 */
export interface MergeMethod<P extends Record<string, unknown> = Record<string, unknown>> extends Plugin {
  /** Human name, e.g. `TIES-Merging`. */
  readonly name: string;
  /** Citation of the paper that defines the method (authors, year, title, venue or arXiv id). */
  readonly reference: string;
  /** `required`: the merge is relative to a pretrained `base` (task vectors); `unused`: a base is refused. */
  readonly base: 'required' | 'unused';
  /** How many models (besides the base) the method merges: at least `min`, at most `max` when given. */
  readonly models: { readonly min: number; readonly max?: number };
  /** False when the plan's weights are ignored (SLERP, model stock): a config that sets them is an error. */
  readonly usesWeights: boolean;
  /**
   * The parameters: a strict zod object with a default for each, so `parse({})` gives the defaults and an
   * unknown key is an error. Each check carries a message stating the expected range (`a number in (0, 1]`),
   * which the executor's error repeats with the parameter's name and the value found.
   */
  readonly parameters: z.ZodType<P>;
  /**
   * Checks that need the number of models (a per-model list's length), before anything is read: throws an
   * `XltError` naming the parameter, what was expected and what was found.
   */
  validate?(params: P, models: number): void;
  /**
   * Merges one tensor: writes the merged values (in float64) into `out`, whose length is the tensor's element
   * count. Must be a pure function of its arguments (no state kept between tensors, randomness derived from
   * `params`, the tensor name and element indices only), so results are deterministic.
   */
  mergeTensor(inputs: MergeTensorInputs, params: P, out: Float64Array): void;
}

/** Service identifier of {@link MergeMethod}. */
export const MergeMethod: unique symbol = Symbol.for('xlt.MergeMethod');
