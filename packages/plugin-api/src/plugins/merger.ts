import type { Plugin } from './plugin.js';
import type { WeightedCheckpoint } from './averaging.js';

/** What an experiment tells a merger besides the plan. */
export interface MergeContext {
  /** The merger's options from the config (`merger: {id, options}`), validated by its `optionsSchema`. */
  readonly options?: Readonly<Record<string, unknown>>;
  /** The experiment's pretrained model folder: the base of task-vector methods (TIES, DARE, task arithmetic). */
  readonly base?: string;
}

/**
 * Extension point: writes the merge of a plan's checkpoints as one HF model folder. Strategies only choose and
 * weight; a merger does the arithmetic over the tensors. `@xlt/averaging` binds `streaming-mean` (the weighted
 * mean, streamed from safetensors) and one merger per merge method (`ties`, `dare-ties`, `model-stock`, ...). An
 * experiment names its merger with `merger` (default `streaming-mean`), or per strategy entry.
 */
export interface CheckpointMerger extends Plugin {
  /** True when the merger needs {@link MergeContext.base}: an experiment passes its pretrained model. */
  readonly needsBase?: boolean;
  /** Writes the merge of `plan` (weights sum to 1) as an HF model folder at `outDir` (created, must not exist). */
  merge(plan: readonly WeightedCheckpoint[], outDir: string, context?: MergeContext): Promise<void>;
}

/** Service identifier of {@link CheckpointMerger}. */
export const CheckpointMerger: unique symbol = Symbol.for('xlt.CheckpointMerger');
