import type { ResultRecord } from '@xlt/plugin-api';
import { isCountMetric } from './metric-kinds.js';

/** The robustness summary of one strategy on one metric, the numbers the method is judged by. */
export interface StrategySummary {
  readonly strategy: string;
  readonly metric: string;
  readonly oracle: boolean;
  /** How many models (runs or groups) the strategy produced. */
  readonly models: number;
  /** Mean over models of the language-averaged score. */
  readonly mean: number;
  /** Sample standard deviation over models of the language-averaged score (0 for one model). */
  readonly std: number;
  /** Worst case: the minimum over models of the language-averaged score. */
  readonly worst: number;
  /** Mean minus the oracle's mean (both averaged over languages); absent when no oracle ran. */
  readonly gapToOracle?: number;
  /** Mean over models, per language. */
  readonly perLanguage: Readonly<Record<string, number>>;
}

/**
 * The main metric of a result set: the first score metric in record order (the runner puts the task's primary
 * first; counts such as `unseen_labels` are never the main metric, see `isCountMetric`).
 */
export function mainMetric(records: readonly ResultRecord[]): string | undefined {
  return records.find((r) => !isCountMetric(r.metric))?.metric;
}

/** Metrics in first-seen order. */
export function metricsOf(records: readonly ResultRecord[]): string[] {
  return [...new Set(records.map((r) => r.metric))];
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const std = (xs: readonly number[]) => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
};

/**
 * Per strategy, for one metric: the language-averaged score of each model, then mean, standard deviation and
 * worst case over models, and the gap to the oracle. Oracle models are per language, so an oracle "model" here
 * is its run or group, averaged over the languages it was built for.
 */
export function summarize(records: readonly ResultRecord[], metric: string): StrategySummary[] {
  const rows = records.filter((r) => r.metric === metric);
  const strategies = [...new Set(rows.map((r) => r.strategy))];
  const out: StrategySummary[] = [];
  for (const strategy of strategies) {
    const mine = rows.filter((r) => r.strategy === strategy);
    const byRun = new Map<string, number[]>();
    const byLanguage = new Map<string, number[]>();
    for (const r of mine) {
      byRun.set(r.run, [...(byRun.get(r.run) ?? []), r.value]);
      byLanguage.set(r.language, [...(byLanguage.get(r.language) ?? []), r.value]);
    }
    const averages = [...byRun.values()].map(mean);
    out.push({
      strategy,
      metric,
      oracle: mine.some((r) => r.oracle),
      models: averages.length,
      mean: mean(averages),
      std: std(averages),
      worst: Math.min(...averages),
      perLanguage: Object.fromEntries([...byLanguage].map(([l, v]) => [l, mean(v)])),
    });
  }
  const oracles = out.filter((s) => s.oracle);
  if (oracles.length > 0) {
    const best = Math.max(...oracles.map((s) => s.mean));
    return out.map((s) => ({ ...s, gapToOracle: s.mean - best }));
  }
  return out;
}

const HEAD_PROTOCOLS: Readonly<Record<string, string>> = {
  'shared-frozen': 'one head trained once with the encoder frozen, shared and frozen in every run',
  'per-run': 'each run trains its own head from its seed',
};

/** Which head protocol the runs used, in words (`undefined` when the records do not say). */
export function headProtocolLine(records: readonly ResultRecord[]): string | undefined {
  const protocols = [...new Set(records.map((r) => r.headProtocol).filter((p) => p !== undefined))];
  if (protocols.length === 0) return undefined;
  return `Head protocol: ${protocols.map((p) => `${p} (${HEAD_PROTOCOLS[p] ?? p})`).join('; ')}.`;
}

const fmt = (x: number | undefined, signed = false) => (x === undefined || !Number.isFinite(x) ? '-' : `${signed && x >= 0 ? '+' : ''}${x.toFixed(2)}`);

/** A plain-text table of {@link summarize} for the main metric, for the terminal. Oracle rows are marked. */
export function summaryTable(records: readonly ResultRecord[], metric = mainMetric(records)): string {
  if (!metric) return '(no results)';
  const summaries = summarize(records, metric);
  const languages = [...new Set(records.map((r) => r.language))];
  const header = ['strategy', 'models', ...languages, 'mean', 'std', 'worst', 'vs oracle'];
  const rows = summaries.map((s) => [
    s.oracle ? `${s.strategy} (ORACLE)` : s.strategy,
    String(s.models),
    ...languages.map((l) => fmt(s.perLanguage[l])),
    fmt(s.mean),
    fmt(s.std),
    fmt(s.worst),
    s.oracle ? '(oracle)' : fmt(s.gapToOracle, true),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const experiment = records[0]?.experiment ?? '';
  return [
    `${experiment}: ${metric} on the target languages (mean over runs; mean/std/worst over runs of the language average)`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    ...(headProtocolLine(records) ? [headProtocolLine(records)!] : []),
    ...(summaries.some((s) => s.oracle) ? ['ORACLE rows select with target-language dev data: not zero-shot, an upper reference only.'] : []),
  ].join('\n');
}
