import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExperimentContext } from './experiment-context.js';
import { readMarker, writeMarker } from './layout.js';
import type { ModelDoneMarker } from './model-step.js';

/** The `runs.json` of an across-run model: the runs of its group when it was built. */
export interface GroupRunsMarker {
  readonly strategy: string;
  readonly group: string;
  readonly runs: readonly string[];
}

/** The `plan.json` files under a model folder: its own, and those of its per-language (oracle) models. */
async function builtPlans(dir: string): Promise<ModelDoneMarker[]> {
  const out: ModelDoneMarker[] = [];
  const own = await readMarker<ModelDoneMarker>(join(dir, 'plan.json'));
  if (own) out.push(own);
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory() || entry.name === 'model') continue;
    const plan = await readMarker<ModelDoneMarker>(join(dir, entry.name, 'plan.json'));
    if (plan) out.push(plan);
  }
  return out;
}

/**
 * Makes the models and evaluations of an across-run strategy for one group fit the group's runs now. A grid that
 * grew (a seed added) gives a group more runs than its model was averaged from: that model and its evaluations
 * are removed, so that they are built again from every run; the runs themselves are kept. Groups whose runs did
 * not change, and per-run models, are left untouched. Folders from before `runs.json` existed are judged by the
 * runs their plans name. Returns true when something was removed.
 */
export async function dropOutgrownGroupModels(ctx: ExperimentContext, strategy: string, group: string, runs: readonly string[]): Promise<boolean> {
  const { layout } = ctx;
  const current = [...runs].sort();
  const recorded = await readMarker<GroupRunsMarker>(layout.modelRuns(strategy, group));
  let outgrown: boolean;
  if (recorded) outgrown = JSON.stringify([...recorded.runs].sort()) !== JSON.stringify(current);
  else {
    const plans = await builtPlans(layout.modelDir(strategy, group));
    if (plans.length === 0) return false;
    const used = new Set(plans.flatMap((p) => p.plan.map((c) => c.run)));
    outgrown = current.some((r) => !used.has(r)) || [...used].some((r) => !current.includes(r));
  }
  if (!outgrown) return false;
  // Evaluations first: a model folder without them is rebuilt and re-evaluated, never the other way round.
  await rm(layout.evalRoot(strategy, group), { recursive: true, force: true });
  await rm(layout.modelDir(strategy, group), { recursive: true, force: true });
  return true;
}

/** Records the runs an across-run model of a group was built from (see {@link dropOutgrownGroupModels}). */
export async function recordGroupRuns(ctx: ExperimentContext, strategy: string, group: string, runs: readonly string[]): Promise<void> {
  const file = ctx.layout.modelRuns(strategy, group);
  const marker: GroupRunsMarker = { strategy, group, runs: [...runs].sort() };
  const recorded = await readMarker<GroupRunsMarker>(file);
  if (JSON.stringify(recorded) !== JSON.stringify(marker)) await writeMarker(file, marker);
}
