import { XltError, type CheckpointInfo, type Metrics, type RunInfo } from '@xlt/plugin-api';
import { checkpointSteps } from '../trainer/train.js';
import { resolveTrainingOptions } from '../trainer/training-options.js';
import type { ExperimentContext } from './experiment-context.js';
import type { RunSpec } from './run-plan.js';

/** The optimizer steps one run will take and the steps it will save a checkpoint at. */
export interface PlannedSteps {
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  /** Checkpoint steps in order; the last is `totalSteps`. */
  readonly checkpoints: readonly number[];
}

/**
 * The steps of a run over `features` training features, as the trainer will count them: micro-batches of the
 * run's batch size, `training.gradientAccumulation` of them per optimizer step, checkpoints by `checkpoints`.
 * Refuses an accumulation that no epoch can complete (it would train nothing and report the pretrained model).
 */
export function plannedSteps(ctx: Pick<ExperimentContext, 'config'>, run: RunSpec, features: number): PlannedSteps {
  const { training, checkpoints } = ctx.config;
  const batches = Math.ceil(features / run.point.batchSize);
  if (training.gradientAccumulation > batches) {
    throw new XltError(
      `training.gradientAccumulation is ${training.gradientAccumulation}, but an epoch of run ${run.key} (${features} training features in batches of ${run.point.batchSize}) has ${batches} batches, so no optimizer step would complete. Lower it to at most ${batches}. Nothing was trained.`,
    );
  }
  const stepsPerEpoch = Math.ceil(batches / training.gradientAccumulation);
  const totalSteps = stepsPerEpoch * run.point.epochs;
  const options = resolveTrainingOptions({
    learningRate: run.point.learningRate,
    batchSize: run.point.batchSize,
    epochs: run.point.epochs,
    seed: run.point.seed,
    ...(checkpoints.everySteps ? { checkpointEverySteps: checkpoints.everySteps } : { checkpointsPerEpoch: checkpoints.perEpoch }),
  });
  return { stepsPerEpoch, totalSteps, checkpoints: [...checkpointSteps(options, stepsPerEpoch, totalSteps)].sort((a, b) => a - b) };
}

/**
 * Plans every selected strategy over the checkpoints the runs will save, before anything is trained: options that
 * cannot fit this grid (`weighted` with a weight count other than the checkpoints', a `lastK` beyond them) fail
 * now, naming the strategy, instead of after the training they would waste. Scores are placeholders: the plans
 * are thrown away, only their errors count. (With early stopping a run may save fewer checkpoints than planned.)
 */
export async function checkStrategiesFit(ctx: ExperimentContext, featuresOf: (run: RunSpec) => Promise<number>): Promise<void> {
  const primary = ctx.task.primaryMetric;
  const score: Metrics = { [primary]: 0 };
  const devLanguages = ctx.data.targets.filter((t) => t.dev).map((t) => t.language);
  const infos = new Map<string, RunInfo>();
  for (const run of ctx.runs.filter((r) => r.evaluated)) {
    const planned = plannedSteps(ctx, run, await featuresOf(run));
    const checkpoints: CheckpointInfo[] = planned.checkpoints.map((step) => ({
      path: `${ctx.layout.runDir(run.key)}/checkpoint-${step}`,
      run: run.key,
      step,
      epoch: step / planned.stepsPerEpoch,
      totalSteps: planned.totalSteps,
      ...(ctx.data.dev ? { sourceDev: score } : {}),
      targetDev: Object.fromEntries(devLanguages.map((l) => [l, score])),
    }));
    infos.set(run.key, { id: run.key, checkpoints, hyperparameters: run.hyperparameters });
  }
  const evaluated = ctx.runs.filter((r) => r.evaluated);
  const groups = new Map<string, RunSpec[]>();
  for (const r of evaluated) groups.set(r.group, [...(groups.get(r.group) ?? []), r]);
  for (const selected of ctx.strategies) {
    const units = selected.strategy.scope === 'per-run' ? evaluated.map((r) => [r]) : [...groups.values()];
    for (const unit of units) {
      const runs = unit.map((r) => infos.get(r.key)!);
      const languages = selected.strategy.oracle ? devLanguages.filter((l) => unit.some((r) => r.languages.includes(l))) : [undefined];
      for (const language of languages) {
        try {
          await selected.strategy.plan(runs, selected.options, {
            primaryMetric: primary,
            ...(language ? { targetLanguage: language } : {}),
            ...(ctx.data.dev ? { evaluateSourceDev: async () => score } : {}),
          });
        } catch (error) {
          const saved = runs.map((r) => r.checkpoints.length);
          throw new XltError(
            `strategies: "${selected.name}" cannot plan over the checkpoints this grid will save (${runs.length} run${runs.length > 1 ? 's' : ''} with ${[...new Set(saved)].join(' or ')} checkpoint${saved.every((n) => n === 1) ? '' : 's'} each): ${(error as Error).message}. Nothing was trained.`,
            { cause: error },
          );
        }
      }
    }
  }
}
