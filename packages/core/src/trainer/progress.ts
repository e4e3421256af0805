import { formatDuration } from '../util/duration.js';

/** What a progress line reports. */
export interface ProgressSnapshot {
  readonly step: number;
  readonly totalSteps: number;
  readonly epoch: number;
  /** Mean loss of the steps of the current logging window. */
  readonly loss: number;
  readonly learningRate: number;
}

/** Where progress goes: raw text to a stream, redrawn in place when the stream is a terminal. */
export interface ProgressOutput {
  /** Writes raw text (the reporter adds `\r`, the line-clearing escape and newlines itself). */
  readonly write: (text: string) => void;
  /** A terminal: one line redrawn in place with `\r` at every step. Otherwise a plain line every logging step. */
  readonly tty: boolean;
  /**
   * Put before every line, e.g. `[xlt] ` (default none). A function is asked at every line: the experiment puts the
   * grid's progress (`runs 2/8 ETA 1h05m | `) there, so on a terminal one live line shows both.
   */
  readonly prefix?: string | (() => string);
}

function prefixOf(out: ProgressOutput): string {
  return typeof out.prefix === 'function' ? out.prefix() : (out.prefix ?? '');
}

/**
 * On a terminal, `out` with `live()` (e.g. the grid's `runs 2/8 ETA 1h05m`) and ` | ` after its own prefix on
 * every line, asked afresh each time; elsewhere (plain lines, where the grid prints its own) `out` itself.
 */
export function withLivePrefix(out: ProgressOutput, live: (() => string) | undefined): ProgressOutput {
  if (!live || !out.tty) return out;
  return { ...out, prefix: () => `${prefixOf(out)}${live()} | ` };
}

/** When plain progress lines are printed. */
export interface ProgressCadence {
  /** A line every this many optimizer steps (and at the last step). */
  readonly everySteps: number;
  /** Also a line when this many seconds passed since the last one (default: never). */
  readonly everySeconds?: number;
}

/** An output of plain lines through a line-logging function (no terminal tricks): what `TrainingJob.log` gives. */
export function lineOutput(log: (line: string) => void): ProgressOutput {
  return { tty: false, write: (text) => log(text.replace(/\n$/, '')) };
}

/**
 * Progress lines of a training run (`step 120/1000 epoch 1.20 loss 0.6931 lr 1.90e-5 1234 tok/s ETA 5m12s`). On a
 * terminal one line is redrawn in place at every step (`\r`, then the escape that clears the rest of the line);
 * otherwise a plain line is printed every {@link ProgressCadence.everySteps} steps and at the last step. Speed and
 * ETA count only this session's steps, so a resumed run is not credited with work it did not do.
 */
export class ProgressReporter {
  readonly #started: number;
  readonly #firstStep: number;
  #lastLine = -Infinity;
  #tokens = 0;
  /** The live line on a terminal, when one is drawn (notes clear it and draw it again). */
  #live: string | undefined;

  constructor(
    private readonly out: ProgressOutput,
    private readonly cadence: ProgressCadence,
    firstStep: number,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.#started = now();
    this.#lastLine = this.#started;
    this.#firstStep = firstStep;
  }

  /** Counts tokens processed (for tok/s). */
  addTokens(count: number): void {
    this.#tokens += count;
  }

  /** True when a plain line is due at this step (a terminal redraws at every step). */
  due(step: number, totalSteps: number): boolean {
    if (this.out.tty || step === totalSteps || step % this.cadence.everySteps === 0) return true;
    const every = this.cadence.everySeconds;
    return every !== undefined && (this.now() - this.#lastLine) / 1000 >= every;
  }

  /** Called after every optimizer step: redraws the terminal line, or prints a plain line when one is due. */
  update(snapshot: ProgressSnapshot): void {
    if (!this.due(snapshot.step, snapshot.totalSteps)) return;
    this.#lastLine = this.now();
    const line = this.format(snapshot);
    if (this.out.tty) {
      this.#live = line;
      this.out.write(`\r\x1b[K${prefixOf(this.out)}${line}`);
    } else {
      this.out.write(`${prefixOf(this.out)}${line}\n`);
    }
  }

  /** A line that stays (resuming, early stopping): on a terminal it goes above the live line. */
  note(line: string): void {
    if (this.out.tty && this.#live !== undefined) this.out.write(`\r\x1b[K${prefixOf(this.out)}${line}\n${prefixOf(this.out)}${this.#live}`);
    else this.out.write(`${prefixOf(this.out)}${line}\n`);
  }

  /** Ends the live line on a terminal, so that what follows starts on a line of its own. */
  end(): void {
    if (this.out.tty && this.#live !== undefined) this.out.write('\n');
    this.#live = undefined;
  }

  /** The text of a progress line. */
  format(snapshot: ProgressSnapshot): string {
    const seconds = Math.max(1e-3, (this.now() - this.#started) / 1000);
    const done = snapshot.step - this.#firstStep;
    const eta = done > 0 ? ((snapshot.totalSteps - snapshot.step) * seconds) / done : NaN;
    return (
      `step ${snapshot.step}/${snapshot.totalSteps} epoch ${snapshot.epoch.toFixed(2)} loss ${snapshot.loss.toFixed(4)} ` +
      `lr ${snapshot.learningRate.toExponential(2)} ${Math.round(this.#tokens / seconds)} tok/s ETA ${formatDuration(eta)}`
    );
  }
}
