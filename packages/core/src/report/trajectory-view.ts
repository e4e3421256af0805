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
  /**
   * What the lines are scored on: `target dev` (when the runner scored checkpoints for an oracle), else `source dev`
   * (targets without dev data: a zero-shot user's view). With source dev there is one key, {@link MEAN_OVER_TARGETS},
   * whose finals are the test scores averaged over the targets.
   */
  readonly data: 'target dev' | 'source dev';
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

/**
 * The trajectory view on target dev, else on source dev, or `undefined` when no run has per-checkpoint scores for the
 * metric on either.
 */
export function trajectoryView(records: readonly ResultRecord[], scores: readonly RunCheckpointScores[], metric: string): TrajectoryView | undefined {
  return targetDevTrajectory(records, scores, metric) ?? sourceDevTrajectory(records, scores, metric);
}

/** Mean of rows, element by element. */
const meanOf = (rows: readonly (readonly number[])[]) => rows[0]!.map((_, i) => mean(rows.map((r) => r[i]!)));

/** x of the view: optimizer steps when every run saved at the same steps, else checkpoint numbers. */
function xAxis(runs: readonly RunCheckpointScores[]): Pick<TrajectoryView, 'x' | 'xTitle'> {
  const steps = runs[0]!.checkpoints.map((c) => c.step);
  const sameSteps = runs.every((r) => r.checkpoints.every((c, i) => c.step === steps[i]));
  return { x: sameSteps ? steps : steps.map((_, i) => i + 1), xTitle: sameSteps ? 'optimizer step' : 'checkpoint' };
}

/** Test scores (results.json) of the given strategies over the given runs, per key. */
function finalsOf(records: readonly ResultRecord[], strategies: readonly (string | undefined)[], runKeys: ReadonlySet<string>, metric: string, languages: readonly string[]): Record<string, TrajectoryFinal[]> {
  const finals: Record<string, TrajectoryFinal[]> = Object.fromEntries([MEAN_OVER_TARGETS, ...languages].map((key) => [key, []]));
  for (const name of strategies) {
    if (!name) continue;
    const models = modelScores(records, name, metric).filter((m) => runKeys.has(m.run));
    if (models.length === 0) continue;
    finals[MEAN_OVER_TARGETS]!.push({ strategy: name, value: mean(models.map((m) => m.average)) });
    for (const l of languages) {
      const vs = models.map((m) => m.perLanguage[l]).filter((v): v is number => v !== undefined);
      if (vs.length > 0) finals[l]!.push({ strategy: name, value: mean(vs) });
    }
  }
  return finals;
}

/**
 * On source dev: `last` at k is checkpoint k's own source-dev score, `best-source-dev` up to k the best of
 * checkpoints 1..k on it (what that zero-shot strategy would pick), checkpoint averaging over the first k when
 * recorded; means over runs; finals are the test scores averaged over targets.
 */
function sourceDevTrajectory(records: readonly ResultRecord[], scores: readonly RunCheckpointScores[], metric: string): TrajectoryView | undefined {
  const usable = scores.filter((r) => r.checkpoints.length > 0 && r.checkpoints.every((c) => typeof c.sourceDev?.[metric] === 'number'));
  if (usable.length === 0) return undefined;
  const k = Math.min(...usable.map((r) => r.checkpoints.length));
  const runs = usable.map((r) => ({ ...r, checkpoints: r.checkpoints.slice(0, k) }));
  const prefixAverage = runs.every((r) => r.checkpoints.every((c) => typeof c.prefixAverageSourceDev?.[metric] === 'number'));
  const strategies = strategiesOf(records);
  const last = entryOf(strategies, 'last');
  const ca = entryOf(strategies, 'checkpoint-average');
  const best = entryOf(strategies, 'best-source-dev');
  const own = runs.map((r) => r.checkpoints.map((c) => c.sourceDev![metric]!));
  const lines: TrajectoryLine[] = [
    { strategy: last?.name ?? 'last', label: 'last: checkpoint k itself', values: meanOf(own) },
    ...(prefixAverage ? [{ strategy: ca?.name ?? 'checkpoint-average', label: 'checkpoint average of checkpoints 1..k', values: meanOf(runs.map((r) => r.checkpoints.map((c) => c.prefixAverageSourceDev![metric]!))) }] : []),
    { strategy: best?.name ?? 'best-source-dev', label: 'best of checkpoints 1..k on source dev', values: meanOf(own.map(upTo)) },
  ];
  const finals = finalsOf(records, [last?.name, ca?.name, best?.name], new Set(runs.map((r) => r.run)), metric, []);
  return { metric, data: 'source dev', runs: runs.map((r) => r.run), ...xAxis(runs), languages: [MEAN_OVER_TARGETS], lines: { [MEAN_OVER_TARGETS]: lines }, finals: { [MEAN_OVER_TARGETS]: finals[MEAN_OVER_TARGETS]! }, prefixAverage };
}

function targetDevTrajectory(records: readonly ResultRecord[], scores: readonly RunCheckpointScores[], metric: string): TrajectoryView | undefined {
  const usable = scores.filter((r) => r.checkpoints.length > 0 && r.checkpoints.every((c) => Object.values(c.targetDev).some((m) => typeof m[metric] === 'number')));
  if (usable.length === 0) return undefined;
  const k = Math.min(...usable.map((r) => r.checkpoints.length));
  const runs = usable.map((r) => ({ ...r, checkpoints: r.checkpoints.slice(0, k) }));
  // Languages every run scored at every checkpoint.
  const languages = Object.keys(runs[0]!.checkpoints[0]!.targetDev).filter((l) => runs.every((r) => r.checkpoints.every((c) => typeof c.targetDev[l]?.[metric] === 'number')));
  if (languages.length === 0) return undefined;
  const prefixAverage = runs.every((r) => r.checkpoints.every((c) => languages.every((l) => typeof c.prefixAverageTargetDev?.[l]?.[metric] === 'number')));
  // Per run and language: the series of each rule; then per key the mean over runs (and over languages for the mean key).
  const series = (run: (typeof runs)[number], language: string) => {
    const own = run.checkpoints.map((c) => c.targetDev[language]![metric]!);
    return { last: own, oracle: upTo(own), ca: prefixAverage ? run.checkpoints.map((c) => c.prefixAverageTargetDev![language]![metric]!) : undefined };
  };
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
  const finals = finalsOf(records, [last?.name, ca?.name, oracle?.name], new Set(runs.map((r) => r.run)), metric, languages);
  return {
    metric,
    data: 'target dev',
    runs: runs.map((r) => r.run),
    ...xAxis(runs),
    languages: [MEAN_OVER_TARGETS, ...languages],
    lines,
    finals,
    prefixAverage,
  };
}
