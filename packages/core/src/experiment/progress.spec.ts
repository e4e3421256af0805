import { describe, expect, it } from 'vitest';
import { ProgressReporter, withLivePrefix } from '../trainer/progress.js';
import { GridProgress } from './progress.js';

describe('grid progress on a terminal', () => {
  it("puts the grid's runs and ETA at the start of the trainer's live line, and draws no line of its own that would hide it", () => {
    const written: string[] = [];
    const grid = new GridProgress(4, (t) => written.push(t), true);
    grid.runDone('lr=1_seed=1', true);
    grid.runStart('lr=1_seed=2');
    written.length = 0;
    let now = 0;
    const reporter = new ProgressReporter(withLivePrefix({ tty: true, write: (t) => written.push(t), prefix: '[xlt] ' }, () => grid.summary()), { everySteps: 100 }, 0, () => now);
    for (let step = 1; step <= 3; step++) {
      now += 1000;
      grid.step(step, 10);
      reporter.update({ step, totalSteps: 10, epoch: step / 10, loss: 0.5, learningRate: 1e-5 });
    }
    // Only the trainer's redraws reach the terminal, each one carrying the grid's part, which moves with the steps.
    expect(written).toHaveLength(3);
    for (const w of written) expect(w).toMatch(/^\r\x1b\[K\[xlt\] runs 1\/4 ETA \S+ \| step \d+\/10 /);
    expect(written[2]).toContain('step 3/10');
    expect(grid.summary()).not.toMatch(/NaN/);
  });

  it('still draws the shared head phase, which has no trainer line', () => {
    const written: string[] = [];
    const grid = new GridProgress(2, (t) => written.push(t), true);
    grid.headStart('training the shared head');
    written.length = 0;
    grid.step(1, 5);
    expect(written).toEqual([expect.stringMatching(/^\r\x1b\[K\[xlt\] runs 0\/2 \| shared head step 1\/5 \| ETA training /)]);
  });

  it('leaves plain-line output alone: there the grid prints its own lines', () => {
    const out = { tty: false, write: () => {}, prefix: '[xlt] ' };
    expect(withLivePrefix(out, () => 'runs 0/2')).toBe(out);
  });
});
