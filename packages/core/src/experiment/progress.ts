import { formatDuration } from '../util/duration.js';

/**
 * Progress of the whole grid on stderr: runs done out of the total, the current run's step and an ETA from the
 * speed of the steps trained in this session (runs skipped because they were done do not count toward speed).
 * On a terminal the line is redrawn in place; otherwise it is printed at most every `intervalMs`. While a run
 * trains on a terminal, the trainer's own live line (loss, learning rate, tokens/s) carries the grid's part as its
 * prefix ({@link summary}), so that neither line hides the other.
 */
const HEAD = 'shared head';

export class GridProgress {
  #done = 0;
  #current?: { run: string; step: number; total: number };
  #stepsTrained = 0;
  #trainingMs = 0;
  #stepStart = Date.now();
  #lastPrint = 0;

  constructor(
    readonly totalRuns: number,
    private readonly write: (text: string) => void = (t) => process.stderr.write(t),
    private readonly tty: boolean = Boolean(process.stderr.isTTY),
    private readonly intervalMs = 5000,
  ) {}

  /** A run was found complete or finished training. */
  runDone(run: string, skipped: boolean): void {
    this.#done++;
    this.#current = undefined;
    this.#print(`run ${this.#done}/${this.totalRuns} ${skipped ? 'already done' : 'done'}: ${run}`, true);
  }

  /** A run starts (or resumes) training. */
  runStart(run: string): void {
    this.#current = { run, step: 0, total: 0 };
    this.#stepStart = Date.now();
    this.#print(`run ${this.#done + 1}/${this.totalRuns} training: ${run}`, true);
  }

  /** The current run finished an optimizer step. */
  step(step: number, total: number): void {
    const now = Date.now();
    if (this.#current && step > this.#current.step) {
      this.#stepsTrained++;
      this.#trainingMs += now - this.#stepStart;
    }
    this.#stepStart = now;
    if (this.#current) this.#current = { ...this.#current, step, total };
    // On a terminal a run's steps show in the trainer's live line, which starts with summary().
    if (this.tty && this.#current?.run !== HEAD) return;
    this.#print(this.#line(), false);
  }

  /** The grid's part of a live line: runs done and the training ETA of the whole grid, e.g. `runs 2/8 ETA 1h05m`. */
  summary(): string {
    return `runs ${this.#done}/${this.totalRuns} ETA ${formatDuration(this.#etaSeconds())}`;
  }

  /** The head phase starts: its steps show like a run's, but it is not counted as a run. */
  headStart(text: string): void {
    this.#current = { run: HEAD, step: 0, total: 0 };
    this.#stepStart = Date.now();
    this.#print(text, true);
  }

  /** The head phase ended; its steps (forward only) do not count toward the speed of training steps. */
  headDone(text: string): void {
    this.#current = undefined;
    this.#stepsTrained = 0;
    this.#trainingMs = 0;
    this.#print(text, true);
  }

  /** A phase after training (building strategy models, evaluating). */
  phase(text: string): void {
    this.#print(text, true);
  }

  #etaSeconds(): number {
    const c = this.#current;
    const perStep = this.#stepsTrained > 0 ? this.#trainingMs / this.#stepsTrained / 1000 : NaN;
    // Runs not started yet are assumed as long as the current one (grids mostly vary learning rate and seed).
    const notStarted = Math.max(0, this.totalRuns - this.#done - (c ? 1 : 0));
    return ((c ? c.total - c.step : 0) + notStarted * (c?.total ?? 0)) * perStep;
  }

  #line(): string {
    const c = this.#current;
    return `runs ${this.#done}/${this.totalRuns} | ${c ? `${c.run} step ${c.step}/${c.total}` : ''} | ETA training ${formatDuration(this.#etaSeconds())}`;
  }

  #print(text: string, always: boolean): void {
    const now = Date.now();
    if (this.tty) {
      this.write(`\r\x1b[K[xlt] ${text}${always ? '\n' : ''}`);
      return;
    }
    if (!always && now - this.#lastPrint < this.intervalMs) return;
    this.#lastPrint = now;
    this.write(`[xlt] ${text}\n`);
  }
}
