import type { ResultRecord } from '@xlt/plugin-api';
import { mean, modelScores, strategiesOf } from './record-stats.js';

/** One strategy on one hyperparameter axis: each model's language-averaged score by the value it ran with. */
export interface AxisStrategy {
  readonly strategy: string;
  /** One point per model: the axis value (as text), the model's run or group, its language-averaged score. */
  readonly points: readonly { readonly value: string; readonly run: string; readonly score: number }[];
  /** Mean score per value of the axis (same order as {@link HyperparameterAxis.values}; `null` where none). */
  readonly means: readonly (number | null)[];
}

/** One axis of the grid (learning rate, batch size, seed, ...) with more than one value. */
export interface HyperparameterAxis {
  readonly name: string;
  /** Its values as text (numbers as in run keys: `2e-05`), in ascending order. */
  readonly values: readonly string[];
  /** The strategies whose models carry this hyperparameter (across-run groups lack the ones that vary inside a group). */
  readonly strategies: readonly AxisStrategy[];
}

/** Score by hyperparameter: per axis of the grid, the distribution of per-model scores per value, for each strategy. */
export interface HyperparameterView {
  readonly metric: string;
  readonly axes: readonly HyperparameterAxis[];
}

/**
 * A hyperparameter value as text, numbers written as run keys write them (`2e-05`: exponent form below 1e-3, like
 * Python's repr). The report does not import the experiment folder, which imports the report.
 */
function text(v: unknown): string {
  if (typeof v !== 'number' || v === 0 || Math.abs(v) >= 1e-3) return String(v);
  const [mantissa, exponent] = v.toExponential().split('e');
  const e = Number(exponent);
  return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

const order = (a: string, b: string) => {
  const x = Number(a);
  const y = Number(b);
  return Number.isFinite(x) && Number.isFinite(y) ? x - y : a.localeCompare(b);
};

/** The hyperparameter view: every axis on which the models of the metric differ. */
export function hyperparameterView(records: readonly ResultRecord[], metric: string): HyperparameterView {
  const rows = records.filter((r) => r.metric === metric);
  const valuesOf = new Map<string, Set<string>>();
  for (const r of rows) for (const [k, v] of Object.entries(r.hyperparameters ?? {})) valuesOf.set(k, (valuesOf.get(k) ?? new Set()).add(text(v)));
  const axes: HyperparameterAxis[] = [];
  for (const [name, set] of valuesOf) {
    if (set.size < 2) continue;
    const values = [...set].sort(order);
    const strategies: AxisStrategy[] = [];
    for (const s of strategiesOf(rows)) {
      const models = modelScores(rows, s.name, metric).filter((m) => m.hyperparameters[name] !== undefined);
      if (models.length === 0) continue;
      const points = models.map((m) => ({ value: text(m.hyperparameters[name]), run: m.run, score: m.average }));
      const means = values.map((v) => {
        const at = points.filter((p) => p.value === v).map((p) => p.score);
        return at.length > 0 ? mean(at) : null;
      });
      strategies.push({ strategy: s.name, points, means });
    }
    axes.push({ name, values, strategies });
  }
  return { metric, axes };
}
