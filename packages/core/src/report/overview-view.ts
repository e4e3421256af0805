import type { ResultRecord } from '@xlt/plugin-api';
import { languagesOf, mean, modelScores, sampleStd, strategiesOf } from './record-stats.js';

/** One strategy in the overview plots. */
export interface OverviewStrategy {
  readonly strategy: string;
  readonly oracle: boolean;
  /** Mean over models per language (`null` where none), same order as {@link OverviewView.languages}. */
  readonly perLanguage: readonly (number | null)[];
  /** Sample standard deviation over models per language (0 for one model). */
  readonly perLanguageStd: readonly number[];
  /** The models (runs or groups) and their language-averaged scores. */
  readonly runs: readonly string[];
  readonly perRun: readonly number[];
}

/** The overview: per-language means with their spread (grouped bars) and each model's language average (box plots). */
export interface OverviewView {
  readonly metric: string;
  readonly languages: readonly string[];
  readonly strategies: readonly OverviewStrategy[];
}

/** The overview of one metric. */
export function overviewView(records: readonly ResultRecord[], metric: string): OverviewView {
  const rows = records.filter((r) => r.metric === metric);
  const languages = languagesOf(rows);
  return {
    metric,
    languages,
    strategies: strategiesOf(rows).map((s) => {
      const models = modelScores(rows, s.name, metric);
      const at = (l: string) => models.map((m) => m.perLanguage[l]).filter((v): v is number => v !== undefined);
      return {
        strategy: s.name,
        oracle: s.oracle,
        perLanguage: languages.map((l) => (at(l).length > 0 ? mean(at(l)) : null)),
        perLanguageStd: languages.map((l) => sampleStd(at(l))),
        runs: models.map((m) => m.run),
        perRun: models.map((m) => m.average),
      };
    }),
  };
}
