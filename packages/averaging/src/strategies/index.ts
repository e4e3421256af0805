import type { AveragingStrategy } from '@xlt/plugin-api';
import { BestSourceDevStrategy } from './best-source-dev.js';
import { CheckpointAverageStrategy } from './checkpoint-average.js';
import { CheckpointRunAverageStrategy } from './checkpoint-run-average.js';
import { EmaStrategy } from './ema.js';
import { GreedySoupStrategy } from './greedy-soup.js';
import { LastCheckpointStrategy } from './last.js';
import { OracleTargetDevStrategy } from './oracle-target-dev.js';
import { RunAverageStrategy } from './run-average.js';
import { WeightedStrategy } from './weighted.js';

export { BestSourceDevStrategy, CheckpointAverageStrategy, CheckpointRunAverageStrategy, EmaStrategy, GreedySoupStrategy };
export { LastCheckpointStrategy, OracleTargetDevStrategy, RunAverageStrategy, WeightedStrategy };
export { uniform, filterCheckpoints, checkpointFilterShape, type CheckpointFilter } from './plan-helpers.js';

/** A fresh instance of every built-in strategy. */
export function builtinStrategies(): AveragingStrategy[] {
  return [
    new LastCheckpointStrategy(),
    new BestSourceDevStrategy(),
    new OracleTargetDevStrategy(),
    new CheckpointAverageStrategy(),
    new RunAverageStrategy(),
    new CheckpointRunAverageStrategy(),
    new EmaStrategy(),
    new GreedySoupStrategy(),
    new WeightedStrategy(),
  ] as AveragingStrategy[];
}
