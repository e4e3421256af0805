import { formatDuration } from '../util/duration.js';
/** What a progress line reports. */
export interface ProgressSnapshot {
  readonly step: number;
  readonly totalSteps: number;
  readonly epoch: number;
  /** Mean loss of the steps since the previous line. */
  readonly loss: number;
  readonly learningRate: number;
}

/**
 * Throttled progress lines (`step 120/1000 epoch 1.20 loss 0.6931 lr 1.90e-5 1234 tok/s ETA 5m12s`): at most one
 * per `everySeconds`, plus the last step. Speed and ETA count only this session's steps, so a resumed run is
 * not credited with work it did not do.
 */
export class ProgressReporter {
  readonly #started: number;
  readonly #firstStep: number;
  #last = -Infinity;
  #tokens = 0;

  constructor(
    private readonly write: (line: string) => void,
    private readonly everySeconds: number,
    firstStep: number,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.#started = now();
    this.#firstStep = firstStep;
  }

  /** Counts tokens processed (for tok/s). */
  addTokens(count: number): void {
    this.#tokens += count;
  }

  /** True when a line is due at this step (call {@link report} then). */
  due(step: number, totalSteps: number): boolean {
    return step === totalSteps || (this.now() - this.#last) / 1000 >= this.everySeconds;
  }

  report(snapshot: ProgressSnapshot): void {
    const now = this.now();
    this.#last = now;
    const seconds = Math.max(1e-3, (now - this.#started) / 1000);
    const done = snapshot.step - this.#firstStep;
    const eta = done > 0 ? ((snapshot.totalSteps - snapshot.step) * seconds) / done : NaN;
    this.write(
      `step ${snapshot.step}/${snapshot.totalSteps} epoch ${snapshot.epoch.toFixed(2)} loss ${snapshot.loss.toFixed(4)} ` +
        `lr ${snapshot.learningRate.toExponential(2)} ${Math.round(this.#tokens / seconds)} tok/s ETA ${formatDuration(eta)}`,
    );
  }
}

