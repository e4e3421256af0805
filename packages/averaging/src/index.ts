/**
 * `@xlt/averaging`: checkpoint averaging (CA), run averaging (RA), CA+RA, EMA, greedy soups and checkpoint
 * selection, as {@link AveragingStrategy} plugins that only choose and weight, plus one streaming averager over
 * safetensors that does the arithmetic for all of them, and the `xlt average` command.
 * @packageDocumentation
 */
import { ContainerModule } from 'inversify';
import { AveragingStrategy, CheckpointMerger, CliCommand } from '@xlt/core';
import { averageCheckpoints } from './average-checkpoints.js';
import { averageCommand } from './average-command.js';
import { builtinStrategies } from './strategies/index.js';

export * from './strategies/index.js';
export * from './average-checkpoints.js';
export * from './average-runs.js';
export * from './run-folder.js';
export { averageCommand, parseOptionFlags, runAverageCommand } from './average-command.js';

/** The container module of this package: binds every built-in strategy and the `xlt average` command. */
export const averagingModule = new ContainerModule(({ bind }) => {
  for (const strategy of builtinStrategies()) bind(AveragingStrategy).toConstantValue(strategy);
  bind(CliCommand).toConstantValue(averageCommand);
  // the experiment runner builds averaged models through this service; the math lives here, not in core
  bind(CheckpointMerger).toConstantValue({ merge: async (plan: Parameters<typeof averageCheckpoints>[0], out: string) => void (await averageCheckpoints(plan, out)) });
});
