import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { type CheckpointInfo, XltError } from '@xlt/plugin-api';
import type { ExperimentConfig } from '../config/experiment-schema.js';
import type { ExperimentContext } from './experiment-context.js';
import { readMarker, writeMarker } from './layout.js';
import type { ModelDoneMarker } from './model-step.js';

/** The `retention` setting of an experiment config. */
export type Retention = ExperimentConfig['retention'];

/** The `retention.json` of a run: the steps of its checkpoints that were deleted (recorded before deleting). */
export interface RetentionMarker {
  readonly run: string;
  readonly deleted: readonly number[];
}

/** Steps of a run's checkpoints deleted by `retention` (none when it never pruned). */
export async function deletedSteps(ctx: ExperimentContext, run: string): Promise<Set<number>> {
  return new Set((await readMarker<RetentionMarker>(ctx.layout.runRetention(run)))?.deleted ?? []);
}

/** A run's checkpoints without those `retention` deleted: what strategies may still choose from. */
export async function keptCheckpoints(ctx: ExperimentContext, run: string, checkpoints: readonly CheckpointInfo[]): Promise<CheckpointInfo[]> {
  const deleted = await deletedSteps(ctx, run);
  return checkpoints.filter((c) => !deleted.has(c.step));
}

/**
 * Refuses to build a model from runs that lost checkpoints to `retention`: a strategy added later or a group
 * that grew would otherwise average fewer checkpoints than it says, silently.
 */
export async function requireUndeleted(ctx: ExperimentContext, strategy: string, label: string, runs: readonly string[]): Promise<void> {
  const lost: string[] = [];
  for (const run of runs) {
    const deleted = await deletedSteps(ctx, run);
    if (deleted.size) lost.push(`${run} (checkpoint-${[...deleted].sort((a, b) => a - b).join(', checkpoint-')})`);
  }
  if (lost.length === 0) return;
  throw new XltError(
    `The model of strategy "${strategy}" for ${label} (${ctx.layout.modelDir(strategy, label)}) is not built yet and would need checkpoints that "retention" ` +
      `(${JSON.stringify(ctx.config.retention)}) deleted: ${lost.join('; ')}. Remove the strategy or use another output folder to train the runs again; keep checkpoints with "retention": "all".`,
  );
}

/** Checkpoint folders that are a strategy's model themselves (selections such as `last`), from every `plan.json`. */
async function selectedCheckpoints(ctx: ExperimentContext): Promise<Set<string>> {
  const out = new Set<string>();
  const models = join(ctx.layout.root, 'models');
  let files: string[];
  try {
    files = (await readdir(models, { recursive: true })).filter((f) => f.endsWith(`${sep}plan.json`) || f === 'plan.json');
  } catch {
    return out;
  }
  for (const file of files) {
    const marker = await readMarker<ModelDoneMarker>(join(models, file));
    if (marker) out.add(resolve(dirname(join(models, file)), marker.model));
  }
  return out;
}

/** Which checkpoints of one finished run `retention` keeps: its final one, selected ones, and the newest N. */
export function checkpointsToKeep(retention: Retention, checkpoints: readonly CheckpointInfo[], selected: ReadonlySet<string>): Set<number> {
  const bySteps = [...checkpoints].sort((a, b) => a.step - b.step);
  if (retention === 'all') return new Set(bySteps.map((c) => c.step));
  const newest = retention === 'needed' ? 1 : retention.keepLast;
  const keep = new Set(bySteps.slice(-newest).map((c) => c.step));
  for (const c of bySteps) if (selected.has(resolve(c.path))) keep.add(c.step);
  return keep;
}

/**
 * Deletes the checkpoints `retention` does not keep, once every strategy's models are built and evaluated (the
 * end of `xlt run`): for each finished run, what it deletes is recorded in `runs/<run>/retention.json` first, so an
 * interrupted deletion is finished by the next run and strategies never see a half-deleted checkpoint. The final
 * checkpoint always stays (few-shot runs continue from it, `last` selects it); unfinished runs are never touched,
 * so a resumed run finds every checkpoint it had. Returns the deleted folders.
 */
export async function applyRetention(ctx: ExperimentContext, runs: ReadonlyMap<string, readonly CheckpointInfo[]>): Promise<string[]> {
  // `runs`: every checkpoint of each finished run as its done.json lists them, deleted ones included.
  const retention = ctx.config.retention;
  if (retention === 'all') return [];
  const selected = await selectedCheckpoints(ctx);
  const removed: string[] = [];
  for (const [run, checkpoints] of runs) {
    const runDir = resolve(ctx.layout.runDir(run));
    const keep = checkpointsToKeep(retention, checkpoints, selected);
    const before = await deletedSteps(ctx, run);
    // Steps recorded earlier are deleted again: a deletion cut short finishes here.
    const doomed = checkpoints.filter((c) => !keep.has(c.step) || before.has(c.step));
    if (doomed.length === 0) continue;
    for (const c of doomed) {
      const rel = relative(runDir, resolve(c.path));
      if (rel.startsWith('..') || rel === '' || rel.includes(sep)) throw new XltError(`Refusing to delete ${c.path}: not a checkpoint folder directly under ${runDir}.`);
    }
    const marker: RetentionMarker = { run, deleted: [...new Set([...before, ...doomed.map((c) => c.step)])].sort((a, b) => a - b) };
    await writeMarker(ctx.layout.runRetention(run), marker);
    for (const c of doomed) {
      if (!existsSync(c.path)) continue;
      await rm(c.path, { recursive: true, force: true });
      removed.push(c.path);
    }
  }
  return removed;
}
