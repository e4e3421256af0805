import { z } from 'zod';
import type { AveragingStrategy, CheckpointInfo, RunInfo, StrategyContext } from '@xlt/plugin-api';

const uniform = (checkpoints: readonly CheckpointInfo[]) => checkpoints.map((checkpoint) => ({ checkpoint, weight: 1 / checkpoints.length }));
const best = (checkpoints: readonly CheckpointInfo[], score: (c: CheckpointInfo) => number | undefined) => {
  let top = checkpoints.at(-1)!;
  for (const c of checkpoints) if ((score(c) ?? -Infinity) > (score(top) ?? -Infinity)) top = c;
  return [{ checkpoint: top, weight: 1 }];
};

/**
 * Small strategies with the scopes and oracle flag of the real ones (`@xlt/averaging` is not a dependency of core),
 * for testing the protocol: last, best source dev, checkpoint average (with `lastK`), run average, CA+RA and the
 * target-dev oracle.
 */
export const toyStrategies: AveragingStrategy[] = [
  { id: 'last', description: 'final checkpoint', scope: 'per-run', oracle: false, plan: async ([run]) => [{ checkpoint: run!.checkpoints.at(-1)!, weight: 1 }] },
  {
    id: 'best-source-dev', description: 'best on source dev', scope: 'per-run', oracle: false,
    plan: async ([run], _o, ctx: StrategyContext) => best(run!.checkpoints, (c) => c.sourceDev?.[ctx.primaryMetric]),
  },
  {
    id: 'checkpoint-average', description: 'uniform CA (option lastK: only the last K checkpoints)', scope: 'per-run', oracle: false,
    optionsSchema: z.strictObject({ lastK: z.number().int().positive().optional() }),
    plan: async ([run], options: { lastK?: number }) => uniform(run!.checkpoints.slice(-(options.lastK ?? run!.checkpoints.length))),
  } as AveragingStrategy,
  { id: 'run-average', description: 'uniform RA of final checkpoints', scope: 'across-runs', oracle: false, plan: async (runs: readonly RunInfo[]) => uniform(runs.map((r) => r.checkpoints.at(-1)!)) },
  { id: 'checkpoint-run-average', description: 'uniform CA+RA', scope: 'across-runs', oracle: false, plan: async (runs) => uniform(runs.flatMap((r) => r.checkpoints)) },
  {
    id: 'oracle-target-dev', description: 'best on target dev (oracle)', scope: 'per-run', oracle: true,
    plan: async ([run], _o, ctx) => best(run!.checkpoints, (c) => c.targetDev?.[ctx.targetLanguage!]?.[ctx.primaryMetric]),
  },
];
