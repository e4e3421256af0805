import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '@xlt/plugin-api/testing';
import { xlt } from '../run-xlt.js';
import { referenceExperiment, resultRows, startXlt, weightHashes, type ReferenceExperiment } from './fault-fixtures.js';

/** Seed of the kill times; `XLT_FAULT_SEED=<n>` replays a failure. */
const SEED = Number(process.env['XLT_FAULT_SEED'] ?? Date.now() % 100_000);

/** mulberry32: the kill times of one seed, reproducible. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Any instant may be the last one: the head phase, a checkpoint write, a lock, an average, an evaluation, results.
describe(`kill -9 at random points of xlt run (XLT_FAULT_SEED=${SEED})`, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let reference: ReferenceExperiment;
  let referenceSeconds: number;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('xlt-fault-kill-'));
    const started = performance.now();
    reference = await referenceExperiment(join(dir, 'qs'));
    referenceSeconds = (performance.now() - started) / 1000;
  });
  afterAll(() => cleanup());

  it('after 6 kills at random times, the same command ends with the reference results and bit-identical weights', async () => {
    const next = random(SEED);
    const out = join(dir, 'killed');
    const killedAt: string[] = [];
    for (let k = 0; k < 6; k++) {
      // Spread over the whole run (quickstart data and model generation excluded: about 80% of the reference time).
      const delayMs = Math.round(300 + next() * referenceSeconds * 800);
      const { child, exited, stderr } = startXlt(['run', reference.config, '--out', out]);
      const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
      const code = await exited;
      clearTimeout(timer);
      killedAt.push(`${delayMs} ms (${code === null ? 'killed' : `exited ${code}`})`);
      // A run the kill did not reach must have finished normally, not failed on what an earlier kill left.
      if (code !== null) expect(code, `after kills at ${killedAt.join(', ')}: ${stderr().slice(-2000)}`).toBe(0);
    }
    const final = await xlt(['run', reference.config, '--out', out]);
    expect(final.code, `after kills at ${killedAt.join(', ')}: ${final.stderr.slice(-2000)}`).toBe(0);
    expect(await resultRows(out), `after kills at ${killedAt.join(', ')}`).toEqual(reference.rows);
    expect(await weightHashes(out), `after kills at ${killedAt.join(', ')}`).toEqual(reference.weights);
  });
});
