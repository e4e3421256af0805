import type { Plugin } from './plugin.js';
import type { WeightedCheckpoint } from './averaging.js';

/**
 * Extension point: writes the weighted average of a plan's checkpoints as one HF model folder. Strategies only
 * choose and weight; a merger does the arithmetic over the tensors (`@xlt/averaging` binds `streaming-mean`, which
 * streams safetensors). An experiment names its merger with `averaging.merger` (default `streaming-mean`).
 */
export interface CheckpointMerger extends Plugin {
  /** Writes the average of `plan` (weights sum to 1) as an HF model folder at `outDir` (created, must not exist). */
  merge(plan: readonly WeightedCheckpoint[], outDir: string): Promise<void>;
}

/** Service identifier of {@link CheckpointMerger}. */
export const CheckpointMerger: unique symbol = Symbol.for('xlt.CheckpointMerger');
