/**
 * `@xlt/averaging`: checkpoint averaging (CA), run averaging (RA), CA+RA, EMA, greedy soups and checkpoint
 * selection, as {@link AveragingStrategy} plugins that only choose and weight, plus one streaming averager over
 * safetensors that does the arithmetic for all of them, mergekit's merge methods (task arithmetic, TIES, DARE,
 * model stock, SLERP) as {@link MergeMethod} plugins with their executor, and the `xlt average` command.
 * @packageDocumentation
 */
import { ContainerModule } from 'inversify';
import { AveragingStrategy, CheckpointMerger, CliCommand, MergeMethod } from '@xlt/plugin-api';
import { averageCheckpoints } from './average-checkpoints.js';
import { averageCommand } from './average-command.js';
import { builtinMergeMethods } from './merge-methods/builtins.js';
import { methodCheckpointMerger } from './merge-methods/compose.js';
import { builtinStrategies } from './strategies/index.js';

export * from './strategies/index.js';
export * from './merge-methods/index.js';
export {
  COPIED_MODEL_FILES,
  averageCheckpoints,
  writeModelFolder,
  type WeightedPath,
  type AverageOptions,
  type AverageResult,
} from './average-checkpoints.js';
export { parseStrategyOptions, averageRuns, type AverageRunsOptions, type AveragedModel } from './average-runs.js';
export {
  CHECKPOINT_METADATA_KEYS,
  stepFromName,
  describeCheckpoint,
  readRunFolder,
  expandGlob,
  runsFromInputs,
} from './run-folder.js';
export { averageCommand, parseOptionFlags, runAverageCommand } from './average-command.js';

/**
 * The checkpoint merger of this package, `streaming-mean`: the weighted mean of every tensor, streamed from the
 * checkpoints' safetensors and accumulated in float64 (`averageCheckpoints`). The experiment's default merger.
 */
export const streamingMean: CheckpointMerger = {
  id: 'streaming-mean',
  description: 'weighted mean of every tensor, streamed from safetensors, accumulated in float64',
  // Non-finite weights in a checkpoint are refused: a NaN average would evaluate to garbage with no error.
  merge: async (plan, out) => void (await averageCheckpoints(plan, out, { rejectNaN: true })),
};

/**
 * The container module of this package: binds every built-in strategy, every built-in merge method (under
 * {@link MergeMethod}; list them with `mergeMethodsOf(engine)`), the `xlt average` command and `streaming-mean`.
 */
export const averagingModule = new ContainerModule(({ bind }) => {
  for (const strategy of builtinStrategies()) bind(AveragingStrategy).toConstantValue(strategy);
  for (const method of builtinMergeMethods()) bind(MergeMethod).toConstantValue(method);
  bind(CliCommand).toConstantValue(averageCommand);
  // the experiment runner builds averaged models through this service; the math lives here, not in core
  bind(CheckpointMerger).toConstantValue(streamingMean);
  // `linear` is streaming-mean already; every other method becomes a merger an experiment can name.
  for (const method of builtinMergeMethods().filter((m) => m.id !== 'linear')) bind(CheckpointMerger).toConstantValue(methodCheckpointMerger(method));
});
