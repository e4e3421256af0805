import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckpointInfo, Metrics } from '@xlt/plugin-api';
import { resolveRef } from '../config/load-experiment.js';
import type { ExperimentContext } from './experiment-context.js';
import type { RunSpec } from './run-plan.js';
import { scoreModel } from './score-model.js';

/**
 * Checkpoint averaging over the first k checkpoints of a run, for every k, scored on the source language's dev data
 * as the trainer scores single checkpoints: the trajectory of experiments whose targets have no dev data (a
 * zero-shot user's view). Entry k - 1 is the average of checkpoints 1..k (entry 0 the first checkpoint's own
 * scores). Empty without a merger or source dev data.
 */
export async function prefixAverageSourceScores(ctx: ExperimentContext, checkpoints: readonly CheckpointInfo[]): Promise<Metrics[]> {
  const dev = ctx.data.dev;
  if (!dev || checkpoints.length === 0 || !checkpoints[0]!.sourceDev || ctx.engine.mergers.ids().length === 0) return [];
  const out: Metrics[] = [{ ...checkpoints[0]!.sourceDev }];
  await eachPrefixAverage(ctx, checkpoints, async (model) => void out.push((await scoreModel(ctx, model, dev, ctx.data.sourceLanguage)).metrics));
  return out;
}

/** Builds the average of checkpoints 1..k for k = 2..K in a scratch folder and hands each to `score`. */
async function eachPrefixAverage(ctx: ExperimentContext, checkpoints: readonly CheckpointInfo[], score: (model: string) => Promise<void>): Promise<void> {
  const merger = resolveRef(ctx.config.merger);
  for (let k = 2; k <= checkpoints.length; k++) {
    const plan = checkpoints.slice(0, k).map((checkpoint) => ({ checkpoint, weight: 1 / k }));
    const scratch = join(ctx.layout.root, 'models', '.scratch', randomBytes(6).toString('hex'));
    try {
      await ctx.services.merge(plan, scratch, merger, ctx.model);
      await score(scratch);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
}

/**
 * Checkpoint averaging over the first k checkpoints of a run, for every k, scored on the target languages' dev
 * data as the oracle scores single checkpoints: the report draws it over training beside the last checkpoint and
 * the oracle (how CA evolves, the paper's trajectory figure). For analysis only: no strategy reads it. Entry k - 1
 * is the average of checkpoints 1..k (entry 0 is the first checkpoint's own scores). Empty without a merger.
 */
export async function prefixAverageScores(ctx: ExperimentContext, run: RunSpec, checkpoints: readonly CheckpointInfo[]): Promise<Record<string, Metrics>[]> {
  if (checkpoints.length === 0 || ctx.engine.mergers.ids().length === 0) return [];
  const targets = ctx.data.targets.filter((t) => t.dev && run.languages.includes(t.language));
  const out: Record<string, Metrics>[] = [{ ...(checkpoints[0]!.targetDev ?? {}) }];
  await eachPrefixAverage(ctx, checkpoints, async (model) => {
    const byLanguage: Record<string, Metrics> = {};
    for (const target of targets) byLanguage[target.language] = (await scoreModel(ctx, model, target.dev!, target.language)).metrics;
    out.push(byLanguage);
  });
  return out;
}
