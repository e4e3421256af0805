import { XltError, type Metrics } from '@xlt/plugin-api';
import type { ResolvedTrainingOptions } from './training-options.js';

/** The best source-dev score so far and where it was reached. */
export interface BestScore {
  readonly metric: string;
  readonly value: number;
  readonly step: number;
}

/**
 * HF's `EarlyStoppingCallback` on source-dev scores (higher is better): an evaluation that beats the best by more
 * than the threshold resets the count, any other adds one; training stops when the count reaches the patience.
 * The watched metric is `earlyStoppingMetric`, else the task's primary metric, else the first one evaluated.
 */
export class EarlyStopping {
  readonly #patience: number | undefined;
  readonly #threshold: number;
  #metric: string | undefined;
  #best: BestScore | undefined;
  #worse = 0;

  constructor(options: Pick<ResolvedTrainingOptions, 'earlyStoppingPatience' | 'earlyStoppingThreshold' | 'earlyStoppingMetric'>, primaryMetric?: string) {
    this.#patience = options.earlyStoppingPatience;
    this.#threshold = options.earlyStoppingThreshold;
    this.#metric = options.earlyStoppingMetric ?? primaryMetric;
  }

  /** Whether a patience is set. */
  get enabled(): boolean {
    return this.#patience !== undefined;
  }

  /** The best score so far. */
  get best(): BestScore | undefined {
    return this.#best;
  }

  /** Evaluations in a row without improvement. */
  get evaluationsWithoutImprovement(): number {
    return this.#worse;
  }

  /** The metric watched for these metrics (the configured one, else the first), `undefined` without metrics. */
  metricFor(metrics: Metrics | undefined): string | undefined {
    return this.#metric ?? (metrics ? Object.keys(metrics)[0] : undefined);
  }

  /** Takes the source-dev metrics of the checkpoint at `step` (`where` names it in errors). */
  observe(step: number, metrics: Metrics, where: string): void {
    this.#metric ??= Object.keys(metrics)[0];
    const metric = this.#metric;
    const value = metric === undefined ? undefined : metrics[metric];
    if (metric === undefined || typeof value !== 'number' || !Number.isFinite(value)) {
      throw new XltError(
        `Early stopping watches the source-dev metric ${JSON.stringify(metric ?? null)}, but the evaluation of ${where} (step ${step}) gave ${JSON.stringify(metrics)}: expected a finite number for it. Set earlyStoppingMetric to one of: ${Object.keys(metrics).join(', ') || '(none)'}.`,
      );
    }
    if (this.#best === undefined || (value > this.#best.value && value - this.#best.value > this.#threshold)) {
      this.#best = { metric, value, step };
      this.#worse = 0;
    } else {
      this.#worse++;
    }
  }

  /** True once the patience is used up. */
  shouldStop(): boolean {
    return this.#patience !== undefined && this.#worse >= this.#patience;
  }

  /** `accuracy 81.2 best at step 40, 3 evaluations without improvement` for log lines. */
  describe(): string {
    const b = this.#best;
    return b ? `source-dev ${b.metric} best ${b.value} at step ${b.step}, ${this.#worse} evaluations since without an improvement above ${this.#threshold}` : 'no source-dev score yet';
  }
}
