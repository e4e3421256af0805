import type { ResultRecord } from '@xlt/plugin-api';

/** The key the views use for "mean over the target languages" next to the language codes. */
export const MEAN_OVER_TARGETS = '(mean)';

/** Arithmetic mean (`NaN` for no values). */
export const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Sample standard deviation (0 for fewer than two values). */
export function sampleStd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}

/** Target languages in first-seen order. */
export const languagesOf = (records: readonly ResultRecord[]): string[] => [...new Set(records.map((r) => r.language))];

/** One model of a strategy (a run, or a group of runs) on one metric. */
export interface ModelScores {
  /** The record's `run`: a run key, or a group's key for across-run strategies. */
  readonly run: string;
  readonly hyperparameters: Readonly<Record<string, unknown>>;
  /** Score by target language. */
  readonly perLanguage: Readonly<Record<string, number>>;
  /** The score averaged over the model's target languages. */
  readonly average: number;
}

/** The models of one strategy on one metric, in first-seen order. */
export function modelScores(records: readonly ResultRecord[], strategy: string, metric: string): ModelScores[] {
  const byRun = new Map<string, ResultRecord[]>();
  for (const r of records) if (r.strategy === strategy && r.metric === metric) byRun.set(r.run, [...(byRun.get(r.run) ?? []), r]);
  return [...byRun].map(([run, rows]) => ({
    run,
    hyperparameters: rows[0]!.hyperparameters ?? {},
    perLanguage: Object.fromEntries(rows.map((r) => [r.language, r.value])),
    average: mean(rows.map((r) => r.value)),
  }));
}

/** A strategy of the results, as the views name and colour it. */
export interface ReportStrategy {
  /** The entry's name, which records are keyed by. */
  readonly name: string;
  /** The plugin id (the name when records do not say). */
  readonly id: string;
  readonly oracle: boolean;
}

/** The strategies of the records in first-seen order. */
export function strategiesOf(records: readonly ResultRecord[]): ReportStrategy[] {
  const out = new Map<string, ReportStrategy>();
  for (const r of records) if (!out.has(r.strategy)) out.set(r.strategy, { name: r.strategy, id: r.strategyId ?? r.strategy, oracle: r.oracle });
  return [...out.values()];
}

/**
 * The entry of a strategy plugin the views compare: the one named after the id (the plain entry, not an ablation
 * such as `checkpoint-average[lastK=1]`), else the first entry of that id.
 */
export function entryOf(strategies: readonly ReportStrategy[], id: string): ReportStrategy | undefined {
  return strategies.find((s) => s.name === id) ?? strategies.find((s) => s.id === id);
}

/** The oracle the views show: `oracle-target-dev` when it ran, else the first oracle strategy. */
export function oracleOf(strategies: readonly ReportStrategy[]): ReportStrategy | undefined {
  return entryOf(strategies, 'oracle-target-dev') ?? strategies.find((s) => s.oracle);
}
