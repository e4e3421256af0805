import { join } from 'node:path';
import {
  InputError,
  XltError,
  type AveragingStrategy,
  type RunInfo,
  type StrategyContext,
  type WeightedCheckpoint,
} from '@xlt/plugin-api';
import { averageCheckpoints, type AverageOptions, type AverageResult } from './average-checkpoints.js';
import { mergeCheckpoints, type MergeOptions } from './merge-methods/merge-checkpoints.js';

/** Options of {@link averageRuns}: where to write, the strategy context, and the streaming options. */
export interface AverageRunsOptions extends AverageOptions {
  /**
   * Output path. `across-runs` strategies, or one run: the averaged file/folder itself. `per-run` strategies over
   * several runs: a folder with one output per run id (`out/<run>` for folders, `out/<run>.safetensors` for files).
   */
  readonly out: string;
  /** The strategy context; default `{ primaryMetric: 'accuracy' }` without source-dev evaluation. */
  readonly context?: StrategyContext;
  /**
   * Merge each plan with this method (`{ method: 'ties', params: { density: 0.5 }, base }`) instead of the weighted
   * mean; `dtype`, `overwrite`, `maxShardBytes`, `fsync` and `metadata` above apply to it too.
   */
  readonly merge?: MergeOptions;
}

/** One model made by {@link averageRuns}. */
export interface AveragedModel extends AverageResult {
  /** The run, for `per-run` strategies. */
  readonly run?: string;
  readonly plan: readonly WeightedCheckpoint[];
}

/** Validates strategy options against its schema; errors name the strategy and the option path. */
export function parseStrategyOptions(strategy: AveragingStrategy, options: unknown, source = 'options'): Record<string, unknown> {
  if (!strategy.optionsSchema) return (options ?? {}) as Record<string, unknown>;
  const parsed = strategy.optionsSchema.safeParse(options ?? {});
  if (parsed.success) return parsed.data as Record<string, unknown>;
  throw new InputError(
    parsed.error.issues.map((issue) => ({
      file: source,
      path: [strategy.id, ...issue.path.map(String)].join('.'),
      expected: issue.message,
      found: describeAt(options, issue.path),
    })),
    `Invalid options for strategy "${strategy.id}"`,
  );
}

function describeAt(value: unknown, path: readonly PropertyKey[]): string {
  let v = value;
  for (const key of path) v = (v as Record<PropertyKey, unknown> | undefined)?.[key];
  return v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v);
}

/**
 * Plans with a strategy and writes the averaged model(s): the code-level equivalent of `xlt average --strategy`.
 * `per-run` strategies make one model per run, `across-runs` ones a single model.
 */
export async function averageRuns(
  runs: readonly RunInfo[],
  strategy: AveragingStrategy,
  options: unknown,
  write: AverageRunsOptions,
): Promise<AveragedModel[]> {
  if (runs.length === 0) throw new XltError(`Strategy "${strategy.id}": no runs to average`);
  const parsed = parseStrategyOptions(strategy, options);
  const context = write.context ?? { primaryMetric: 'accuracy' };
  const groups = strategy.scope === 'per-run' ? runs.map((r) => [r]) : [runs];
  const results: AveragedModel[] = [];
  for (const group of groups) {
    const plan = await strategy.plan(group, parsed, context);
    const isFile = plan[0]?.checkpoint.path.endsWith('.safetensors') ?? false;
    const out = groups.length === 1 ? write.out : join(write.out, isFile ? `${group[0]!.id}.safetensors` : group[0]!.id);
    const result = write.merge ? await mergeCheckpoints(plan, out, { ...mergeWriteOptions(write), ...write.merge }) : await averageCheckpoints(plan, out, write);
    results.push({ ...result, plan, ...(strategy.scope === 'per-run' ? { run: group[0]!.id } : {}) });
  }
  return results;
}

/** The write options of an average that also apply to a merge. */
function mergeWriteOptions(write: AverageRunsOptions): Partial<MergeOptions> {
  const { dtype, overwrite, maxShardBytes, fsync, metadata } = write;
  return Object.fromEntries(Object.entries({ dtype, overwrite, maxShardBytes, fsync, metadata }).filter(([, v]) => v !== undefined));
}
