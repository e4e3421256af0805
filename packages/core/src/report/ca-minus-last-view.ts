import type { ResultRecord } from '@xlt/plugin-api';
import { entryOf, languagesOf, MEAN_OVER_TARGETS, mean, modelScores, strategiesOf } from './record-stats.js';

/**
 * Per run, checkpoint averaging's score minus the last checkpoint's (same run, same language): the paired
 * comparison the method's claim rests on, with its mean over runs and how many runs CA wins.
 */
export interface CaMinusLastView {
  readonly metric: string;
  /** The two strategy entries compared. */
  readonly ca: string;
  readonly last: string;
  /** Runs that have both, in the order of the records. */
  readonly runs: readonly string[];
  /** Keys of the per-key fields: {@link MEAN_OVER_TARGETS} (differences of the language averages), then languages. */
  readonly languages: readonly string[];
  /** CA − last per run (same order as {@link runs}). */
  readonly differences: Readonly<Record<string, readonly number[]>>;
  /** Mean over runs of the differences. */
  readonly mean: Readonly<Record<string, number>>;
  /** Runs where CA is above last. */
  readonly wins: Readonly<Record<string, number>>;
}

/** The CA − last view, or `undefined` when the results lack `checkpoint-average` or `last`. */
export function caMinusLastView(records: readonly ResultRecord[], metric: string): CaMinusLastView | undefined {
  const strategies = strategiesOf(records);
  const ca = entryOf(strategies, 'checkpoint-average');
  const last = entryOf(strategies, 'last');
  if (!ca || !last) return undefined;
  const lastByRun = new Map(modelScores(records, last.name, metric).map((m) => [m.run, m]));
  const pairs = modelScores(records, ca.name, metric).flatMap((c) => (lastByRun.has(c.run) ? [{ ca: c, last: lastByRun.get(c.run)! }] : []));
  if (pairs.length === 0) return undefined;
  const languages = languagesOf(records.filter((r) => r.metric === metric)).filter((l) => pairs.every((p) => p.ca.perLanguage[l] !== undefined && p.last.perLanguage[l] !== undefined));
  const differences: Record<string, number[]> = { [MEAN_OVER_TARGETS]: pairs.map((p) => p.ca.average - p.last.average) };
  for (const l of languages) differences[l] = pairs.map((p) => p.ca.perLanguage[l]! - p.last.perLanguage[l]!);
  const keys = [MEAN_OVER_TARGETS, ...languages];
  return {
    metric,
    ca: ca.name,
    last: last.name,
    runs: pairs.map((p) => p.ca.run),
    languages: keys,
    differences,
    mean: Object.fromEntries(keys.map((k) => [k, mean(differences[k]!)])),
    wins: Object.fromEntries(keys.map((k) => [k, differences[k]!.filter((d) => d > 0).length])),
  };
}
