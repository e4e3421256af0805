import type { ExperimentConfig } from '../config/experiment-schema.js';
import type { ExperimentData } from './experiment-data.js';
import { expandGrid, hyperparameterRecord, runKey, settingKey, type GridPoint } from './grid.js';

/** One fine-tuning run of the experiment. */
export interface RunSpec {
  /** Folder-safe key from the hyperparameters (plus the few-shot variant). */
  readonly key: string;
  readonly point: GridPoint;
  /** Training examples: the source data, plus target shots in few-shot runs. */
  readonly train: readonly unknown[];
  /** Where training starts: `pretrained`, or the key of the zero-shot run whose final checkpoint it continues. */
  readonly init: 'pretrained' | { readonly run: string };
  /** Target languages its models are evaluated on. */
  readonly languages: readonly string[];
  /** False for the zero-shot runs that few-shot runs start from: they are trained but not averaged or evaluated. */
  readonly evaluated: boolean;
  /** Key of the group an across-run strategy averages this run with (see `runGroups` in the config). */
  readonly group: string;
  /** Hyperparameters for the results table. */
  readonly hyperparameters: Readonly<Record<string, number | string>>;
}

/**
 * Every run of an experiment in training order. Zero-shot: one per grid point and seed. Few-shot: `multi` trains
 * on the source plus the shots of every target (one model for all targets); `bi` on the source plus one target's
 * shots (one model per target); with `start: zero-shot` each few-shot run continues the zero-shot run of the same
 * grid point, which is trained first.
 */
export function planRuns(config: ExperimentConfig, data: ExperimentData): RunSpec[] {
  const points = expandGrid(config.grid);
  const languages = data.targets.map((t) => t.language);
  const groupOf = (point: GridPoint, suffix: string) => (config.runGroups === 'seeds' ? settingKey(point) : 'all') + suffix;
  const zeroShot = points.map(
    (point): RunSpec => ({
      key: runKey(point),
      point,
      train: data.train,
      init: 'pretrained',
      languages,
      evaluated: config.setup.mode === 'zero-shot',
      group: groupOf(point, ''),
      hyperparameters: hyperparameterRecord(point),
    }),
  );
  const setup = config.setup;
  if (setup.mode === 'zero-shot') return zeroShot;

  const runs: RunSpec[] = setup.start === 'zero-shot' ? [...zeroShot] : [];
  const variants =
    setup.variant === 'multi'
      ? [{ suffix: `_shots=${setup.shots}_multi`, langs: languages }]
      : languages.map((l) => ({ suffix: `_shots=${setup.shots}_bi=${l}`, langs: [l] }));
  for (const point of points) {
    for (const variant of variants) {
      const shots = data.targets.filter((t) => variant.langs.includes(t.language)).flatMap((t) => t.shots ?? []);
      runs.push({
        key: runKey(point) + variant.suffix,
        point,
        train: [...data.train, ...shots],
        init: setup.start === 'zero-shot' ? { run: runKey(point) } : 'pretrained',
        languages: variant.langs,
        evaluated: true,
        group: groupOf(point, variant.suffix),
        hyperparameters: { ...hyperparameterRecord(point), shots: setup.shots, variant: setup.variant, start: setup.start, ...(variant.langs.length === 1 && setup.variant === 'bi' ? { shotLanguage: variant.langs[0]! } : {}) },
      });
    }
  }
  return runs;
}
