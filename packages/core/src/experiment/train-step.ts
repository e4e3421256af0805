import { isAbsolute, relative, resolve } from 'node:path';
import { XltError, type CheckpointInfo, type Metrics } from '@xlt/plugin-api';
import { scoreModel } from './score-model.js';
import type { ExperimentContext } from './experiment-context.js';
import { ensureHead } from './head-step.js';
import { readMarker, writeMarker } from './layout.js';
import type { GridProgress } from './progress.js';
import type { RunSpec } from './run-plan.js';
import type { RunTrainingJob } from './services.js';
import { withWorkLock } from './work-lock.js';
import { prefixAverageScores, prefixAverageSourceScores } from './prefix-average.js';

/**
 * Where a run started: the pretrained model folder, or (few-shot with `start: zero-shot`) the final checkpoint of
 * the zero-shot run it continues, relative to the output folder.
 */
export type RunInit = { readonly from: 'pretrained'; readonly model: string } | { readonly from: 'zero-shot'; readonly run: string; readonly checkpoint: string };

/** The head a run was trained with: the shared frozen head (by its file's hash), or its own (`per-run`). */
export type RunHead = { readonly protocol: 'shared-frozen'; readonly seed: number; readonly sha256: string } | { readonly protocol: 'per-run' };

/**
 * A checkpoint as `done.json` stores it; with an oracle, also the target-dev scores of the average of it and every
 * earlier checkpoint of the run (`prefixAverageScores`), which the report draws over training.
 */
export type StoredCheckpoint = CheckpointInfo & {
  readonly prefixAverageTargetDev?: Readonly<Record<string, Metrics>>;
  /** Source-dev metrics of the average of checkpoints 1..k, recorded when the run's targets have no dev data. */
  readonly prefixAverageSourceDev?: Metrics;
};

/** The `done.json` of a finished run. Checkpoint paths are relative to the output folder, so it can be moved. */
export interface RunDoneMarker {
  readonly run: string;
  readonly hyperparameters: Readonly<Record<string, unknown>>;
  readonly init: RunInit;
  /** Absent in folders written before the head protocol existed (their runs trained their own heads). */
  readonly head?: RunHead;
  readonly checkpoints: readonly StoredCheckpoint[];
  /** Wall time of training and scoring the run's checkpoints (absent in older folders). */
  readonly seconds?: number;
}

const toStored = (root: string, c: CheckpointInfo): CheckpointInfo => ({ ...c, path: relative(root, c.path) });
// The prefix averages' scores are for the report only: strategies get the checkpoint as it was saved.
const fromStored = (root: string, { prefixAverageTargetDev: _, prefixAverageSourceDev: __, ...c }: StoredCheckpoint): CheckpointInfo => ({ ...c, path: isAbsolute(c.path) ? c.path : resolve(root, c.path) });

/** The checkpoints of a finished run, or `undefined` when the run is not done. */
export async function finishedRun(ctx: ExperimentContext, key: string): Promise<CheckpointInfo[] | undefined> {
  const marker = await readMarker<RunDoneMarker>(ctx.layout.runDone(key));
  return marker?.checkpoints.map((c) => fromStored(ctx.layout.root, c));
}

/** The `done.json` of a run, or `undefined` when the run is not done. */
export function runMarker(ctx: ExperimentContext, key: string): Promise<RunDoneMarker | undefined> {
  return readMarker<RunDoneMarker>(ctx.layout.runDone(key));
}

/**
 * Makes sure a run is trained: a finished run (its `done.json` exists) is skipped, an interrupted one resumes in
 * the trainer from its newest checkpoint. A few-shot run that continues a zero-shot run starts from that run's
 * final checkpoint, training the zero-shot run first when it is not finished (so `xlt train --run` works for any
 * run). With the `shared-frozen` head protocol every run starts from the shared head (trained first when it is
 * not) and keeps it frozen. Each checkpoint of an evaluated run is then scored on source dev data (for selection
 * and greedy soup) and, when an oracle strategy runs, on each target's dev data; `done.json` is written last.
 */
export async function ensureRun(ctx: ExperimentContext, run: RunSpec, progress?: GridProgress, options: { readonly waitForLock?: boolean; readonly onFinishedBefore?: () => void } = {}): Promise<CheckpointInfo[]> {
  const done = await finishedRun(ctx, run.key);
  if (done) {
    progress?.runDone(run.key, true);
    options.onFinishedBefore?.();
    return done;
  }
  const shared = await ensureHead(ctx, progress);
  let model = ctx.model;
  let init: RunInit = { from: 'pretrained', model: ctx.model };
  if (run.init !== 'pretrained') {
    const baseKey = run.init.run;
    const baseSpec = ctx.runs.find((r) => r.key === baseKey);
    // The zero-shot run may be in training elsewhere (another array task): wait for it rather than fail.
    const base = (await finishedRun(ctx, baseKey)) ?? (baseSpec ? await ensureRun(ctx, baseSpec, progress, { waitForLock: true }) : undefined);
    if (!base?.length) throw new XltError(`Run ${run.key} starts from run ${baseKey}, which is not finished.`);
    model = base[base.length - 1]!.path;
    init = { from: 'zero-shot', run: baseKey, checkpoint: relative(ctx.layout.root, model) };
  }
  // Training holds the run's lock, so two processes on one folder (or two array tasks) never train one run twice.
  const lock = options.waitForLock ? { wait: true, onWait: (line: string) => progress?.phase(line) } : {};
  return withWorkLock(ctx.layout.lockFile(`run=${run.key}`), `Training run ${run.key}`, async () => {
    const finished = await finishedRun(ctx, run.key);
    if (finished) {
      // Another process finished it while this one waited for the head or the lock.
      progress?.runDone(run.key, true);
      options.onFinishedBefore?.();
      return finished;
    }
    return trainAndScore(ctx, run, { model, init, shared }, progress);
  }, lock);
}

/** Trains one run from its start (resuming in the trainer), scores its checkpoints and writes `done.json`. */
async function trainAndScore(
  ctx: ExperimentContext,
  run: RunSpec,
  start: { readonly model: string; readonly init: RunInit; readonly shared: Awaited<ReturnType<typeof ensureHead>> },
  progress?: GridProgress,
): Promise<CheckpointInfo[]> {
  const { model, init, shared } = start;
  if (ctx.config.training.earlyStoppingPatience !== undefined && !ctx.data.dev) {
    throw new XltError(
      `training.earlyStoppingPatience is ${ctx.config.training.earlyStoppingPatience}, but the experiment has no source.dev: early stopping watches the source-dev score of each checkpoint. Add source.dev or remove training.earlyStoppingPatience.`,
    );
  }
  const started = performance.now();
  progress?.runStart(run.key);
  // Source dev goes to the trainer, which scores each checkpoint as it saves it (live in metrics.jsonl and
  // TensorBoard, and for early stopping); checkpoints it did not score are scored below.
  const job: RunTrainingJob = {
    runId: run.key,
    runDir: ctx.layout.runDir(run.key),
    task: ctx.task,
    taskOptions: ctx.taskOptions,
    model,
    backend: ctx.config.backend,
    trainer: ctx.config.trainer,
    ...(ctx.config.tokenizer ? { tokenizer: ctx.config.tokenizer } : {}),
    train: run.train,
    labels: ctx.labels,
    hyperparameters: run.point,
    training: ctx.config.training,
    checkpoints: ctx.config.checkpoints,
    ...(shared ? { head: { file: shared.file, frozen: true } } : {}),
    onStep: (step, total) => progress?.step(step, total),
    ...(progress ? { progressPrefix: () => progress.summary() } : {}),
    ...(run.evaluated && ctx.data.dev ? { sourceDev: { examples: ctx.data.dev, language: ctx.data.sourceLanguage } } : {}),
  };
  const trained = await ctx.services.train(job);
  if (trained.length === 0) throw new XltError(`The trainer saved no checkpoint for run ${run.key} (in ${ctx.layout.runDir(run.key)}).`);

  // Zero-shot runs that few-shot runs start from are never averaged or evaluated: their dev scores would go unused.
  const oracle = run.evaluated && ctx.strategies.some((s) => s.strategy.oracle);
  const checkpoints: CheckpointInfo[] = [];
  for (const checkpoint of trained) {
    const release = await ctx.services.retain?.(checkpoint.path, ctx.config.backend, ctx.config.tokenizer);
    try {
      let sourceDev = checkpoint.sourceDev;
      if (!sourceDev && ctx.data.dev && run.evaluated) sourceDev = (await scoreModel(ctx, checkpoint.path, ctx.data.dev, ctx.data.sourceLanguage)).metrics;
      let targetDev = checkpoint.targetDev;
      if (!targetDev && oracle) {
        const byLanguage: Record<string, Metrics> = {};
        for (const target of ctx.data.targets) {
          if (target.dev && run.languages.includes(target.language)) byLanguage[target.language] = (await scoreModel(ctx, checkpoint.path, target.dev, target.language)).metrics;
        }
        targetDev = byLanguage;
      }
      checkpoints.push({ ...checkpoint, run: run.key, ...(sourceDev ? { sourceDev } : {}), ...(targetDev ? { targetDev } : {}) });
    } finally {
      release?.();
    }
  }
  const head: RunHead = shared ? { protocol: 'shared-frozen', seed: shared.seed, sha256: shared.sha256 } : { protocol: 'per-run' };
  const prefix = oracle ? await prefixAverageScores(ctx, run, checkpoints) : [];
  // Without target dev data the trajectory is drawn on source dev, as a zero-shot user would see it.
  const targetDev = ctx.data.targets.some((t) => t.dev && run.languages.includes(t.language));
  const sourcePrefix = run.evaluated && !targetDev ? await prefixAverageSourceScores(ctx, checkpoints) : [];
  const marker: RunDoneMarker = {
    run: run.key,
    hyperparameters: run.hyperparameters,
    init,
    head,
    checkpoints: checkpoints.map((c, i) => ({
      ...toStored(ctx.layout.root, c),
      ...(prefix[i] ? { prefixAverageTargetDev: prefix[i] } : {}),
      ...(sourcePrefix[i] ? { prefixAverageSourceDev: sourcePrefix[i] } : {}),
    })),
    seconds: (performance.now() - started) / 1000,
  };
  await writeMarker(ctx.layout.runDone(run.key), marker);
  progress?.runDone(run.key, false);
  return checkpoints;
}
