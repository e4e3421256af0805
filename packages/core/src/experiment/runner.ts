import { existsSync } from 'node:fs';
import type { CheckpointInfo, Engine, RunInfo, ResultRecord, Metrics } from '@xlt/plugin-api';
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
import { WorkHeldElsewhere } from './work-lock.js';
import { checkStrategiesFit } from './strategy-preflight.js';
import { dropOutgrownGroupModels, recordGroupRuns } from './group-models.js';
import { applyRetention, keptCheckpoints, requireUndeleted } from './retention.js';

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

  if (!options.aggregate && ctx.services.countTrainingFeatures) {
    // Every strategy planned over the checkpoints the runs will save, before the head phase or any run trains.
    const count = ctx.services.countTrainingFeatures.bind(ctx.services);
    const input = { task: ctx.task, taskOptions: ctx.taskOptions, model: ctx.model, backend: config.backend, trainer: config.trainer, labels: ctx.labels, training: config.training };
    await checkStrategiesFit(ctx, (run) => count({ ...input, ...(config.tokenizer ? { tokenizer: config.tokenizer } : {}), train: run.train }));
  }
  const progress = new GridProgress(ctx.runs.length, stderr);
  const head = await ensureHead(ctx, progress);
  const times: PhaseTimes = {
    ...(head ? { head: { seconds: head.seconds, reused: head.reused } } : {}),
    runs: {},
    averaging: { seconds: 0, byStrategy: {} },
    evaluation: { seconds: 0, byStrategy: {} },
  };
  const infos = new Map<string, RunInfo>();
  /** Every checkpoint each run saved, including those `retention` deleted since. */
  const saved = new Map<string, readonly CheckpointInfo[]>();
  // A run another process is training (a second `xlt run` on this folder) goes to the end of the queue and is
  // waited for there: meanwhile this process trains the free ones, so both end with every run, each trained once.
  const queue = [...ctx.runs];
  for (let i = 0; i < queue.length; i++) {
    const run = queue[i]!;
    const requeued = i >= ctx.runs.length;
    const reused = (await runMarker(ctx, run.key)) !== undefined;
    let checkpoints: CheckpointInfo[];
    try {
      checkpoints = await ensureRun(ctx, run, progress, { waitForLock: requeued });
    } catch (error) {
      if (requeued || !(error instanceof WorkHeldElsewhere)) throw error;
      queue.push(run);
      continue;
    }
    const seconds = (await runMarker(ctx, run.key))?.seconds;
    times.runs[run.key] = { ...(seconds !== undefined ? { seconds } : {}), reused };
    saved.set(run.key, checkpoints);
    infos.set(run.key, { id: run.key, checkpoints: await keptCheckpoints(ctx, run.key, checkpoints), hyperparameters: run.hyperparameters });
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
      const runKeys = unit.runs.map((r) => r.key);
      const across = selected.strategy.scope === 'across-runs';
      // A grid that grew gives a group new runs: its model and evaluations are built again from all of them.
      if (across && (await dropOutgrownGroupModels(ctx, name, unit.label, runKeys))) stderr(`[xlt] ${name}: the runs of group ${unit.label} changed (the grid grew): rebuilding its model and evaluations\n`);
      const mustBuild = async (language?: string) => {
        if (!existsSync(layout.modelDone(name, unit.label, language))) await requireUndeleted(ctx, name, unit.label, runKeys);
      };
      const languages = [...new Set(unit.runs.flatMap((r) => r.languages))];
      const evaluations = [];
      if (selected.strategy.oracle) {
        for (const language of languages.filter((l) => ctx.data.targets.find((t) => t.language === l)?.dev)) {
          await mustBuild(language);
          const model = await timed(times.averaging, name, () => ensureModel(ctx, selected, unit.label, runInfos, language));
          evaluations.push(await timed(times.evaluation, name, () => ensureEvaluation(ctx, name, true, unit.label, language, model)));
        }
      } else {
        await mustBuild();
        const model = await timed(times.averaging, name, () => ensureModel(ctx, selected, unit.label, runInfos));
        // One model on every target language: loaded once (at its first prediction), not once per language.
        const release = await ctx.services.retain?.(model, config.backend, config.tokenizer);
        try {
          for (const language of languages) evaluations.push(await timed(times.evaluation, name, () => ensureEvaluation(ctx, name, false, unit.label, language, model)));
        } finally {
          release?.();
        }
      }
      if (across && evaluations.length) await recordGroupRuns(ctx, name, unit.label, runKeys);
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
  // Only now, with every model built and evaluated, may checkpoints go (`retention`).
  const deleted = await applyRetention(ctx, saved);
  if (deleted.length) stderr(`[xlt] retention ${JSON.stringify(config.retention)}: deleted ${deleted.length} checkpoint${deleted.length > 1 ? 's' : ''} no model needs\n`);
  print(`${summaryTable(records)}\n`);
  stderr(`[xlt] done: ${records.length} results in ${layout.root}${files.length ? ` (${files.map((f) => f.slice(layout.root.length + 1)).join(', ')})` : ''}\n`);
  return { outDir: layout.root, records, files };
}
