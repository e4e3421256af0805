import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { XltError, type RunInfo, type StrategyContext, type WeightedCheckpoint, withAtomicFile } from '@xlt/plugin-api';
import type { ExperimentContext } from './experiment-context.js';
import { readMarker, writeMarker } from './layout.js';
import type { SelectedStrategy } from './strategies.js';
import { scoreModel } from './score-model.js';
import { withWorkLock } from './work-lock.js';

/** The `plan.json` of a built strategy model: what was averaged, with which weights, and where the model is. */
export interface ModelDoneMarker {
  /** The strategy entry's name (what the folder is keyed by). */
  readonly strategy: string;
  /** The strategy plugin's id and its options (absent in folders written before entries had names). */
  readonly strategyId?: string;
  readonly options?: Readonly<Record<string, unknown>>;
  /** The merger that built it (absent in folders written before mergers were chosen per entry: `streaming-mean`). */
  readonly merger?: { readonly id: string; readonly options: Readonly<Record<string, unknown>> };
  readonly run: string;
  readonly language?: string;
  readonly oracle: boolean;
  /** The model folder, relative to this marker's folder: `model` when merged, a checkpoint's folder when selected. */
  readonly model: string;
  readonly plan: readonly { readonly run: string; readonly step: number; readonly path: string; readonly weight: number }[];
}

/**
 * A model built earlier under the same name must come from the same strategy and options: a re-run may add
 * strategies, but an entry whose options changed under its old name would silently reuse the old models.
 */
function checkSameStrategy(existing: ModelDoneMarker, selected: SelectedStrategy, markerFile: string): void {
  const id = existing.strategyId ?? existing.strategy;
  const options = existing.options;
  // Older markers carry no options: only their id can be checked.
  if (id !== selected.id || (options !== undefined && JSON.stringify(options) !== JSON.stringify(selected.options))) {
    throw new XltError(
      `${markerFile} was built by strategy "${id}" with options ${JSON.stringify(options ?? {})}, but the entry named "${selected.name}" is now "${selected.id}" ` +
        `with options ${JSON.stringify(selected.options)}. Give the entry another "name", or remove models/${selected.name} and eval/${selected.name} to rebuild it.`,
    );
  }
  const merger = existing.merger ?? { id: 'streaming-mean', options: {} };
  if (JSON.stringify(merger) !== JSON.stringify(selected.merger)) {
    throw new XltError(
      `${markerFile} was merged by ${JSON.stringify(merger)}, but the entry named "${selected.name}" now merges with ${JSON.stringify(selected.merger)}. ` +
        `Give the entry another "name", or remove models/${selected.name} and eval/${selected.name} to rebuild it.`,
    );
  }
}

/** Checks what a strategy returned, so a faulty plugin is named instead of producing a silently wrong model. */
function checkPlan(plan: readonly WeightedCheckpoint[], strategy: string, run: string): void {
  if (plan.length === 0) throw new XltError(`Strategy "${strategy}" chose no checkpoint for ${run}.`);
  const sum = plan.reduce((s, p) => s + p.weight, 0);
  if (plan.some((p) => !(p.weight >= 0)) || Math.abs(sum - 1) > 1e-6) {
    throw new XltError(`Strategy "${strategy}" gave weights for ${run} that are not non-negative and summing to 1 (sum ${sum}).`);
  }
}

/**
 * Builds (or finds, when its `plan.json` exists) the model of one strategy for one run or group, and for one
 * target language when the strategy is a per-language oracle. A plan of one checkpoint is a selection: its
 * folder is used as it is, not copied. Returns the model folder.
 */
export async function ensureModel(ctx: ExperimentContext, selected: SelectedStrategy, runLabel: string, runs: readonly RunInfo[], language?: string): Promise<string> {
  const { layout } = ctx;
  const markerFile = layout.modelDone(selected.name, runLabel, language);
  const dir = dirname(markerFile);
  const existing = await readMarker<ModelDoneMarker>(markerFile);
  if (existing) {
    checkSameStrategy(existing, selected, markerFile);
    return isAbsolute(existing.model) ? existing.model : resolve(dir, existing.model);
  }
  // Two processes on one folder reach the same model: one builds it, the other waits and takes it.
  const lockName = `model=${[selected.name, runLabel, language ?? ''].join('+').replace(/[/\\]/g, '_')}`;
  return withWorkLock(layout.lockFile(lockName), `Building the ${selected.name} model of ${runLabel}`, async () => {
    const built = await readMarker<ModelDoneMarker>(markerFile);
    if (built) return isAbsolute(built.model) ? built.model : resolve(dir, built.model);
    return buildModel(ctx, selected, runLabel, runs, language);
  }, { wait: true });
}

async function buildModel(ctx: ExperimentContext, selected: SelectedStrategy, runLabel: string, runs: readonly RunInfo[], language?: string): Promise<string> {
  const { layout } = ctx;
  const markerFile = layout.modelDone(selected.name, runLabel, language);
  const dir = dirname(markerFile);
  const context: StrategyContext = {
    primaryMetric: ctx.task.primaryMetric,
    ...(language ? { targetLanguage: language } : {}),
    ...(ctx.data.dev ? { evaluateSourceDev: (plan: readonly WeightedCheckpoint[]) => scorePlanOnSourceDev(ctx, selected, plan) } : {}),
  };
  const plan = await selected.strategy.plan(runs, selected.options, context);
  const where = `${runLabel}${language ? ` (${language})` : ''}`;
  checkPlan(plan, selected.name, where);
  const used = plan.filter((p) => p.weight > 0);
  let model: string;
  if (used.length === 1 && !transformsOne(ctx, selected)) {
    model = used[0]!.checkpoint.path;
  } else {
    model = join(dir, 'model');
    await rm(model, { recursive: true, force: true });
    await withAtomicFile(model, (tmp) => ctx.services.merge(used, tmp, selected.merger, ctx.model));
  }
  const marker: ModelDoneMarker = {
    strategy: selected.name,
    strategyId: selected.id,
    options: selected.options,
    merger: selected.merger,
    run: runLabel,
    ...(language ? { language } : {}),
    oracle: selected.strategy.oracle,
    model: relative(dir, model),
    plan: plan.map((p) => ({ run: p.checkpoint.run, step: p.checkpoint.step, path: relative(dir, p.checkpoint.path), weight: p.weight })),
  };
  await writeMarker(markerFile, marker);
  return model;
}

/**
 * Whether the merger changes even a single checkpoint: a mean of one checkpoint is that checkpoint (so it is
 * used as is, nothing written), but a merge method against the pretrained base (TIES, DARE) transforms it.
 */
function transformsOne(ctx: ExperimentContext, selected: SelectedStrategy): boolean {
  return ctx.engine.mergers.has(selected.merger.id) && ctx.engine.mergers.get(selected.merger.id).needsBase === true;
}

/** Greedy soup's question "how good is this average on source dev?": merges into scratch space and scores it. */
async function scorePlanOnSourceDev(ctx: ExperimentContext, selected: SelectedStrategy, plan: readonly WeightedCheckpoint[]) {
  const used = plan.filter((p) => p.weight > 0);
  if (used.length === 1 && !transformsOne(ctx, selected)) return (await scoreModel(ctx, used[0]!.checkpoint.path, ctx.data.dev!, ctx.data.sourceLanguage)).metrics;
  const scratch = join(ctx.layout.root, 'models', '.scratch', randomBytes(6).toString('hex'));
  try {
    await ctx.services.merge(used, scratch, selected.merger, ctx.model);
    return (await scoreModel(ctx, scratch, ctx.data.dev!, ctx.data.sourceLanguage)).metrics;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
