import type { ResultRecord } from '@xlt/plugin-api';
import { countMetrics } from './metric-kinds.js';
import { languagesOf, mean, modelScores, strategiesOf } from './record-stats.js';

/** One strategy's row of a count metric's table. */
export interface CountRow {
  readonly strategy: string;
  readonly oracle: boolean;
  readonly models: number;
  /** Mean over models, per language (`null` where the strategy has no model for it). */
  readonly perLanguage: readonly (number | null)[];
  /** Sum over languages of {@link perLanguage}. */
  readonly total: number;
}

/** Count metrics (see `isCountMetric`): per metric and strategy, the mean count over models per language and the total. */
export interface CountsView {
  readonly languages: readonly string[];
  readonly metrics: readonly { readonly metric: string; readonly rows: readonly CountRow[] }[];
}

/** The counts view (no metrics when the task reports no counts). */
export function countsView(records: readonly ResultRecord[]): CountsView {
  const languages = languagesOf(records);
  return {
    languages,
    metrics: countMetrics(records).map((metric) => ({
      metric,
      rows: strategiesOf(records.filter((r) => r.metric === metric)).map((s) => {
        const models = modelScores(records, s.name, metric);
        const perLanguage = languages.map((l) => {
          const vs = models.map((m) => m.perLanguage[l]).filter((v): v is number => v !== undefined);
          return vs.length > 0 ? mean(vs) : null;
        });
        return { strategy: s.name, oracle: s.oracle, models: models.length, perLanguage, total: perLanguage.reduce<number>((a, v) => a + (v ?? 0), 0) };
      }),
    })),
  };
}
