import { join } from 'node:path';
import { type ResultRecord, type ResultsSink, writeFileAtomic } from '@xlt/plugin-api';

/** Quotes a CSV field when it holds a comma, quote or line break (RFC 4180). */
export function csvField(value: unknown): string {
  const s = value === undefined || value === null ? '' : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The records as CSV: the fixed columns, one column per hyperparameter seen in any record, then the strategy's id
 * and options (as JSON) and the head protocol (last, so that older readers of the first columns are unaffected).
 */
export function recordsToCsv(records: readonly ResultRecord[]): string {
  const fixed = ['experiment', 'task', 'run', 'strategy', 'language', 'metric', 'value', 'oracle'] as const;
  const extra = [...new Set(records.flatMap((r) => Object.keys(r.hyperparameters ?? {})))];
  const tail = (r: ResultRecord) => [r.strategyId, r.strategyOptions ? JSON.stringify(r.strategyOptions) : undefined, r.headProtocol];
  const lines = [[...fixed, ...extra, 'strategyId', 'strategyOptions', 'headProtocol'].map(csvField).join(',')];
  for (const r of records) lines.push([...fixed.map((k) => r[k]), ...extra.map((k) => r.hyperparameters?.[k]), ...tail(r)].map(csvField).join(','));
  return `${lines.join('\n')}\n`;
}

/** `results.csv`: one row per run, strategy, language and metric, with the run's hyperparameters. */
export const csvSink: ResultsSink = {
  id: 'csv',
  description: 'results.csv: one row per run/strategy/language/metric with the hyperparameters',
  async write(records: readonly ResultRecord[], outDir: string) {
    const file = join(outDir, 'results.csv');
    await writeFileAtomic(file, recordsToCsv(records));
    return [file];
  },
};
