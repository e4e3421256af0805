import type { ResultRecord } from '@xlt/plugin-api';
import type { RunCheckpointScores } from './checkpoint-scores.js';
import { entryOf, MEAN_OVER_TARGETS, mean, modelScores, oracleOf, strategiesOf } from './record-stats.js';

/** One line of the trajectory plot: a strategy's score after k checkpoints, mean over runs. */
export interface TrajectoryLine {
  /** The strategy whose rule the line follows (for its colour and legend). */
  readonly strategy: string;
  /** What the line is, in words. */
  readonly label: string;
  /** Value at each x, mean over the runs. */
  readonly values: readonly number[];
}

/** A strategy's final score on the test data, for comparison at the end of training. */
export interface TrajectoryFinal {
  readonly strategy: string;
  readonly value: number;
}

/**
 * Score over training, from the checkpoints' scores on the target languages' dev data: `last` at checkpoint k is
 * that checkpoint's own score, the oracle up to k the best of checkpoints 1..k (per language, as the oracle
 * selects), checkpoint averaging over the first k (only when the runs recorded it), all means over runs; plus the
 * test scores of last, checkpoint averaging and the oracle as results.json holds them, at the final checkpoint.
 */
export interface TrajectoryView {
  readonly metric: string;
  /** The runs averaged (those whose checkpoints were scored on target dev data). */
  readonly runs: readonly string[];
  /** Optimizer steps when every run saved at the same steps, else checkpoint numbers 1..K. */
  readonly x: readonly number[];
  readonly xTitle: string;
  /** Keys of {@link lines} and {@link finals}: {@link MEAN_OVER_TARGETS}, then the language codes. */
  readonly languages: readonly string[];
  readonly lines: Readonly<Record<string, readonly TrajectoryLine[]>>;
  readonly finals: Readonly<Record<string, readonly TrajectoryFinal[]>>;
  /** Whether checkpoint averaging over the first k checkpoints was recorded (else only its final test score shows). */
  readonly prefixAverage: boolean;
}

/** Running maximum. */
const upTo = (xs: readonly number[]) => xs.map((_, k) => Math.max(...xs.slice(0, k + 1)));

/** The trajectory view, or `undefined` when no run has per-checkpoint target-dev scores for the metric. */
export function trajectoryView(records: readonly ResultRecord[], scores: readonly RunCheckpointScores[], metric: string): TrajectoryView | undefined {
  const usable = scores.filter((r) => r.checkpoints.every((c) => Object.values(c.targetDev).some((m) => typeof m[metric] === 'number')));
  if (usable.length === 0) return undefined;
  const k = Math.min(...usable.map((r) => r.checkpoints.length));
  const runs = usable.map((r) => ({ ...r, checkpoints: r.checkpoints.slice(0, k) }));
  // Languages every run scored at every checkpoint.
  const languages = Object.keys(runs[0]!.checkpoints[0]!.targetDev).filter((l) => runs.every((r) => r.checkpoints.every((c) => typeof c.targetDev[l]?.[metric] === 'number')));
  if (languages.length === 0) return undefined;
  const prefixAverage = runs.every((r) => r.checkpoints.every((c) => languages.every((l) => typeof c.prefixAverageTargetDev?.[l]?.[metric] === 'number')));
  const steps = runs[0]!.checkpoints.map((c) => c.step);
  const sameSteps = runs.every((r) => r.checkpoints.every((c, i) => c.step === steps[i]));

  // Per run and language: the series of each rule; then per key the mean over runs (and over languages for the mean key).
  const series = (run: (typeof runs)[number], language: string) => {
    const own = run.checkpoints.map((c) => c.targetDev[language]![metric]!);
    return { last: own, oracle: upTo(own), ca: prefixAverage ? run.checkpoints.map((c) => c.prefixAverageTargetDev![language]![metric]!) : undefined };
  };
  const meanOf = (rows: readonly (readonly number[])[]) => rows[0]!.map((_, i) => mean(rows.map((r) => r[i]!)));
  const strategies = strategiesOf(records);
  const last = entryOf(strategies, 'last');
  const ca = entryOf(strategies, 'checkpoint-average');
  const oracle = oracleOf(strategies);
  const lines: Record<string, TrajectoryLine[]> = {};
  for (const key of [MEAN_OVER_TARGETS, ...languages]) {
    const langs = key === MEAN_OVER_TARGETS ? languages : [key];
    const perRun = runs.map((r) => {
      const s = langs.map((l) => series(r, l));
      return { last: meanOf(s.map((x) => x.last)), oracle: meanOf(s.map((x) => x.oracle)), ca: prefixAverage ? meanOf(s.map((x) => x.ca!)) : undefined };
    });
    lines[key] = [
      { strategy: last?.name ?? 'last', label: 'last: checkpoint k itself', values: meanOf(perRun.map((r) => r.last)) },
      ...(prefixAverage ? [{ strategy: ca?.name ?? 'checkpoint-average', label: 'checkpoint average of checkpoints 1..k', values: meanOf(perRun.map((r) => r.ca!)) }] : []),
      { strategy: oracle?.name ?? 'oracle-target-dev', label: 'oracle: best of checkpoints 1..k on target dev', values: meanOf(perRun.map((r) => r.oracle)) },
    ];
  }

  // Test scores of the three strategies, over the same runs.
  const runKeys = new Set(runs.map((r) => r.run));
  const finals: Record<string, TrajectoryFinal[]> = Object.fromEntries([MEAN_OVER_TARGETS, ...languages].map((key) => [key, []]));
  for (const s of [last, ca, oracle]) {
    if (!s) continue;
    const models = modelScores(records, s.name, metric).filter((m) => runKeys.has(m.run));
    if (models.length === 0) continue;
    finals[MEAN_OVER_TARGETS]!.push({ strategy: s.name, value: mean(models.map((m) => m.average)) });
    for (const l of languages) {
      const vs = models.map((m) => m.perLanguage[l]).filter((v): v is number => v !== undefined);
      if (vs.length > 0) finals[l]!.push({ strategy: s.name, value: mean(vs) });
    }
  }
  return {
    metric,
    runs: runs.map((r) => r.run),
    x: sameSteps ? steps : steps.map((_, i) => i + 1),
    xTitle: sameSteps ? 'optimizer step' : 'checkpoint',
    languages: [MEAN_OVER_TARGETS, ...languages],
    lines,
    finals,
    prefixAverage,
  };
}
