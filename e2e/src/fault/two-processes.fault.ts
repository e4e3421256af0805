import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '@xlt/plugin-api/testing';
import { xlt } from '../run-xlt.js';
import { STACK_LINE, referenceExperiment, resultRows, startXlt, weightHashes, type ReferenceExperiment } from './fault-fixtures.js';

describe('two processes on one output folder', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let reference: ReferenceExperiment;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('xlt-fault-two-'));
    reference = await referenceExperiment(join(dir, 'qs'));
  });
  afterAll(() => cleanup());

  it('two xlt run of one experiment started together train each run once, and end with the reference results', async () => {
    const out = join(dir, 'shared-out');
    const a = startXlt(['run', reference.config, '--out', out]);
    const b = startXlt(['run', reference.config, '--out', out]);
    const codes = await Promise.all([a.exited, b.exited]);
    const logs = [a.stderr(), b.stderr()];
    expect(codes, logs.join('\n---\n').slice(-3000)).toEqual([0, 0]);
    for (const log of logs) expect(log).not.toMatch(STACK_LINE);
    // Each run is trained by exactly one of them; the other waits for it or leaves it to its holder.
    const trained = logs.flatMap((log) => [...log.matchAll(/run \d+\/\d+ training: (\S+)/g)].map((m) => m[1]!));
    expect(trained.sort()).toEqual([...new Set(reference.rows.filter((r) => r.strategy === 'last').map((r) => r.run))].sort());
    // Whatever one of them left to the other, a last run completes it without training anything.
    const last = await xlt(['run', reference.config, '--out', out]);
    expect(last.code, last.stderr.slice(-2000)).toBe(0);
    expect(last.stderr).not.toMatch(/run \d+\/\d+ training/);
    expect(await resultRows(out)).toEqual(reference.rows);
    expect(await weightHashes(out)).toEqual(reference.weights);
  });

  it('a different experiment on the same folder is refused while and after the first runs, leaving its experiment.json alone', async () => {
    const out = join(dir, 'claimed');
    const first = startXlt(['run', reference.config, '--out', out]);
    const other = join(dir, 'other.json');
    // A training setting, not a grid axis: a grown grid is the same experiment, a different max length is not.
    const config = JSON.parse(await readFile(reference.config, 'utf8')) as { training: { maxLength: number } };
    config.training.maxLength = 40;
    await writeFile(other, JSON.stringify({ ...config, model: join(reference.folder, 'tiny-random-bert'), source: absolute(config, 'source'), targets: absolute(config, 'targets') }));
    // Once the first has claimed the folder (its experiment.json is written), the other is started.
    while (!existsSync(join(out, 'experiment.json'))) {
      if (first.child.exitCode !== null) throw new Error(`the first run ended before claiming ${out}: ${first.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const refused = await xlt(['run', other, '--out', out]);
    expect(await first.exited, first.stderr().slice(-2000)).toBe(0);
    expect(refused.code, refused.stderr.slice(-2000)).toBe(1);
    expect(refused.stderr).toContain('holds the results of a different experiment');
    const manifest = JSON.parse(await readFile(join(out, 'experiment.json'), 'utf8')) as { config: string };
    expect(manifest.config).toBe(reference.config);
    expect(await resultRows(out)).toEqual(reference.rows);

    function absolute(c: Record<string, unknown>, key: string): unknown {
      // Data paths are relative to the config: the other config lives elsewhere, so they are made absolute.
      return JSON.parse(JSON.stringify(c[key]), (_k, v: unknown) => (typeof v === 'string' && v.startsWith('data/') ? join(reference.folder, v) : v));
    }
  });
});
