import type { ResultRecord } from '@xlt/plugin-api';

/**
 * Metrics that count things rather than score predictions: the tagging tasks' bookkeeping (`unseen_labels`: gold
 * words with a tag the model never saw; `truncated_words`: words cut off by `maxLength`) and the toy task's
 * `errors`. Task plugins return plain `Record<string, number>` metrics with no declaration of their kind, so the
 * report keeps this list; a metric named `*_count`, `count_*`, `num_*` or `n_*` counts as well.
 */
export const COUNT_METRICS: readonly string[] = ['unseen_labels', 'truncated_words', 'errors'];

/** Whether a metric is a count (see {@link COUNT_METRICS}): reported as a plain table, with no worst case or gap to the oracle. */
export function isCountMetric(metric: string): boolean {
  return COUNT_METRICS.includes(metric) || /(^(num|n|count)_)|(_count$)/.test(metric);
}

/** Score metrics (everything that is not a count) in first-seen order; the task's primary metric comes first in the records. */
export function scoreMetrics(records: readonly ResultRecord[]): string[] {
  return [...new Set(records.map((r) => r.metric))].filter((m) => !isCountMetric(m));
}

/** Count metrics in first-seen order. */
export function countMetrics(records: readonly ResultRecord[]): string[] {
  return [...new Set(records.map((r) => r.metric))].filter(isCountMetric);
}
