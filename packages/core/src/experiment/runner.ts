import type { Engine, RunInfo, ResultRecord, Metrics } from '@xlt/plugin-api';
import { summaryTable } from '../report/summary.js';
import { ensureEvaluation } from './evaluate-step.js';
import { prepareExperiment, type ExperimentContext } from './experiment-context.js';
import { ensureHead } from './head-step.js';
import { ensureModel } from './model-step.js';
import { GridProgress } from './progress.js';
import { writeProvenance, type PhaseTimes } from './provenance.js';
import type { RunSpec } from './run-plan.js';
import type { ExperimentServices } from './services.js';
import { ensureRun, runMarker } from './train-step.js';
import { requireAllUnits } from './units.js';

/** Options of {@link runExperiment}. */
export interface RunExperimentOptions {
  readonly engine: Engine;
  readonly services: ExperimentServices;
  /** Output folder (overrides the config's `output`). */
  readonly out?: string;
  /** Backend id or `auto`, overriding the config's `backend`. */
  readonly backend?: string;
  /** Where the summary table goes (default stdout). */
  readonly print?: (text: string) => void;
  /** Where progress and notes go (default stderr). */
  readonly stderr?: (text: string) => void;
  /**
   * Only the aggregate step (the scale-out case): averaging, evaluation and results, after checking that every
   * unit (run) was finished by other processes; unfinished units are an error naming them. Default false: train
   * what is missing first.
   */
  readonly aggregate?: boolean;
}

/** What an experiment produced. */
export interface ExperimentOutcome {
  readonly outDir: string;
  readonly records: ResultRecord[];
  /** Files written by the results sinks, then `provenance.json`. */
  readonly files: string[];
}

/** Metric names with the task's primary metric first: reports plot the first metric of the records. */
function orderedMetrics(metrics: Metrics, primary: string): [string, number][] {
  return Object.entries(metrics).sort(([a], [b]) => (a === primary ? -1 : b === primary ? 1 : 0));
}

/** A model to build: one per run for per-run strategies, one per group for across-run ones. */
interface ModelUnit {
  readonly label: string;
  readonly runs: readonly RunSpec[];
  readonly hyperparameters: Readonly<Record<string, unknown>>;
}

/** Hyperparameters shared by every run of a group (the ones that vary are left out of its row). */
function common(runs: readonly RunSpec[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(runs[0]!.hyperparameters)) if (runs.every((r) => r.hyperparameters[k] === v)) out[k] = v;
  return out;
}

function units(ctx: ExperimentContext, scope: 'per-run' | 'across-runs'): ModelUnit[] {
  const runs = ctx.runs.filter((r) => r.evaluated);
  if (scope === 'per-run') return runs.map((r) => ({ label: r.key, runs: [r], hyperparameters: r.hyperparameters }));
  const groups = new Map<string, RunSpec[]>();
  for (const r of runs) groups.set(r.group, [...(groups.get(r.group) ?? []), r]);
  return [...groups].map(([label, members]) => ({ label, runs: members, hyperparameters: common(members) }));
}

/**
 * The whole protocol of `xlt run`: validate config and data, train every grid point x seed (skipping finished
 * runs, resuming interrupted ones; with the `shared-frozen` head protocol, after training the shared head once),
 * build every strategy's models, evaluate each on its target languages, hand the results to every sink and write
 * `provenance.json`. Re-running the same command continues where it stopped.
 */
export async function runExperiment(configFile: string, options: RunExperimentOptions): Promise<ExperimentOutcome> {
  const stderr = options.stderr ?? ((t: string) => process.stderr.write(t));
  const startedAt = new Date();
  const ctx = await prepareExperiment(configFile, options.engine, options.services, { out: options.out, backend: options.backend, note: (l) => stderr(`[xlt] ${l}\n`) });
  return runPrepared(ctx, options, startedAt);
}

/** {@link runExperiment} on an experiment already prepared (`prepareExperiment`). */
export async function runPrepared(ctx: ExperimentContext, options: Omit<RunExperimentOptions, 'engine' | 'services' | 'out' | 'backend'>, startedAt = new Date()): Promise<ExperimentOutcome> {
  const stderr = options.stderr ?? ((t: string) => process.stderr.write(t));
  const print = options.print ?? ((t: string) => process.stdout.write(t));
  const { config, layout } = ctx;
  if (options.aggregate) await requireAllUnits(ctx);
  stderr(`[xlt] ${config.name}: ${ctx.runs.length} runs, head ${config.training.head.protocol}, strategies ${ctx.strategies.map((s) => s.name).join(', ')}, targets ${ctx.data.targets.map((t) => t.language).join(', ')} -> ${layout.root}\n`);

  const progress = new GridProgress(ctx.runs.length, stderr);
  const head = await ensureHead(ctx, progress);
  const times: PhaseTimes = {
    ...(head ? { head: { seconds: head.seconds, reused: head.reused } } : {}),
    runs: {},
    averaging: { seconds: 0, byStrategy: {} },
    evaluation: { seconds: 0, byStrategy: {} },
  };
  const infos = new Map<string, RunInfo>();
  for (const run of ctx.runs) {
    const reused = (await runMarker(ctx, run.key)) !== undefined;
    const checkpoints = await ensureRun(ctx, run, progress);
    const seconds = (await runMarker(ctx, run.key))?.seconds;
    times.runs[run.key] = { ...(seconds !== undefined ? { seconds } : {}), reused };
    infos.set(run.key, { id: run.key, checkpoints, hyperparameters: run.hyperparameters });
  }
  const timed = async <T>(phase: PhaseTimes['averaging'], strategy: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      const seconds = (performance.now() - started) / 1000;
      phase.seconds += seconds;
      phase.byStrategy[strategy] = (phase.byStrategy[strategy] ?? 0) + seconds;
    }
  };

  const records: ResultRecord[] = [];
  const primary = ctx.task.primaryMetric;
  for (const selected of ctx.strategies) {
    const { name } = selected;
    progress.phase(`strategy ${name}: building models and evaluating`);
    for (const unit of units(ctx, selected.strategy.scope)) {
      const runInfos = unit.runs.map((r) => infos.get(r.key)!);
      const languages = [...new Set(unit.runs.flatMap((r) => r.languages))];
      const evaluations = [];
      if (selected.strategy.oracle) {
        for (const language of languages.filter((l) => ctx.data.targets.find((t) => t.language === l)?.dev)) {
          const model = await timed(times.averaging, name, () => ensureModel(ctx, selected, unit.label, runInfos, language));
          evaluations.push(await timed(times.evaluation, name, () => ensureEvaluation(ctx, name, true, unit.label, language, model)));
        }
      } else {
        const model = await timed(times.averaging, name, () => ensureModel(ctx, selected, unit.label, runInfos));
        // One model on every target language: loaded once (at its first prediction), not once per language.
        const release = await ctx.services.retain?.(model, config.backend, config.tokenizer);
        try {
          for (const language of languages) evaluations.push(await timed(times.evaluation, name, () => ensureEvaluation(ctx, name, false, unit.label, language, model)));
        } finally {
          release?.();
        }
      }
      for (const e of evaluations) {
        for (const [metric, value] of orderedMetrics(e.metrics, primary)) {
          records.push({
            experiment: config.name,
            task: ctx.task.id,
            run: unit.label,
            strategy: name,
            strategyId: selected.id,
            strategyOptions: selected.options,
            headProtocol: config.training.head.protocol,
            language: e.language,
            metric,
            value,
            oracle: selected.strategy.oracle,
            hyperparameters: unit.hyperparameters,
          });
        }
      }
    }
  }

  const files: string[] = [];
  for (const sink of ctx.sinks) files.push(...(await sink.write(records, layout.root)));
  await writeProvenance(ctx, times, { startedAt, head });
  files.push(layout.provenance);
  print(`${summaryTable(records)}\n`);
  stderr(`[xlt] done: ${records.length} results in ${layout.root}${files.length ? ` (${files.map((f) => f.slice(layout.root.length + 1)).join(', ')})` : ''}\n`);
  return { outDir: layout.root, records, files };
}
