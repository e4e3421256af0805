import type { CheckpointInfo, RunInfo, StrategyContext, WeightedCheckpoint } from '../plugins/averaging.js';
import type { Metrics } from '../plugins/task.js';

/** Records whether any code read a checkpoint's `targetDev`, to check that non-oracle strategies never do. */
export interface TargetDevProbe {
  read: boolean;
}

/**
 * Three runs of four checkpoints with source-dev and target-dev scores that disagree (so an oracle picks other
 * checkpoints than source-dev selection), `totalSteps` set, and a `targetDev` getter that reports reads.
 */
export function conformanceRuns(probe: TargetDevProbe = { read: false }): RunInfo[] {
  const runs: RunInfo[] = [];
  for (let r = 0; r < 3; r++) {
    const checkpoints: CheckpointInfo[] = [];
    for (let k = 0; k < 4; k++) {
      const step = (k + 1) * 100;
      const targetDev: Record<string, Metrics> = { de: { accuracy: 50 + ((k * 7 + r * 3) % 11) }, sw: { accuracy: 40 + ((k * 5 + r) % 7) } };
      const checkpoint = {
        path: `/runs/run-${r}/checkpoint-${step}`,
        run: `run-${r}`,
        step,
        totalSteps: 400,
        sourceDev: { accuracy: 60 + ((k * 3 + r * 5) % 9) },
      };
      Object.defineProperty(checkpoint, 'targetDev', {
        enumerable: true,
        get() {
          probe.read = true;
          return targetDev;
        },
      });
      checkpoints.push(checkpoint as CheckpointInfo);
    }
    runs.push({ id: `run-${r}`, checkpoints, hyperparameters: { seed: r } });
  }
  return runs;
}

/**
 * A context whose source-dev evaluation is a deterministic function of the plan (the weighted mean of the
 * recorded scores minus a spread penalty), so soups have something to accept and reject.
 */
export function conformanceContext(): StrategyContext & { evaluations: number } {
  const context = {
    primaryMetric: 'accuracy',
    targetLanguage: 'de',
    evaluations: 0,
    async evaluateSourceDev(plan: readonly WeightedCheckpoint[]): Promise<Metrics> {
      context.evaluations++;
      const scores = plan.map((p) => p.checkpoint.sourceDev?.accuracy ?? 0);
      const mean = plan.reduce((s, p, i) => s + p.weight * scores[i]!, 0);
      const spread = Math.max(...scores) - Math.min(...scores);
      return { accuracy: mean + 2 - 0.5 * spread };
    },
  };
  return context;
}
