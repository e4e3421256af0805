import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '@xlt/plugin-api/testing';
import { xlt } from '../run-xlt.js';
import { STACK_LINE, referenceExperiment, resultRows, type ReferenceExperiment } from './fault-fixtures.js';
import { mountReadOnly, unmount } from './mounts.js';

// Root ignores permission bits, so read-only is a read-only mount: EROFS for everyone.
describe('read-only folders', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let reference: ReferenceExperiment;
  let ro: string;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('xlt-fault-ro-'));
    reference = await referenceExperiment(join(dir, 'qs'));
    const source = join(dir, 'inputs');
    for (const f of ['experiment.json', 'data', 'tiny-random-bert']) await cp(join(reference.folder, f), join(source, f), { recursive: true });
    await cp(join(reference.folder, 'results', 'runs'), join(source, 'runs'), { recursive: true });
    ro = join(dir, 'ro');
    mountReadOnly(source, ro);
  });
  afterAll(async () => {
    unmount(ro);
    await cleanup();
  });

  it('xlt run into a read-only output folder says so, with the path and what to do, and no stack', async () => {
    const outcome = await xlt(['run', reference.config, '--out', join(ro, 'out')]);
    expect(outcome.code, outcome.stderr.slice(-2000)).toBe(1);
    expect(outcome.stderr).toMatch(new RegExp(`EROFS at \\w+ ${ro}/out`));
    expect(outcome.stderr).toContain('the file system is read-only: give an output folder on a writable disk (--out)');
    expect(outcome.stderr).not.toMatch(STACK_LINE);
    expect(outcome.stderr).not.toContain('unexpected error');
  });

  it('xlt average and xlt quickstart into a read-only folder fail the same way', async () => {
    const run = join(ro, 'runs', reference.rows.find((r) => r.strategy === 'last')!.run);
    for (const args of [['average', run, '--out', join(ro, 'ca.safetensors')], ['quickstart', '--out', join(ro, 'qs')]]) {
      const outcome = await xlt(args);
      expect(outcome.code, `${args.join(' ')}: ${outcome.stderr.slice(-2000)}`).toBe(1);
      expect(outcome.stderr, args.join(' ')).toMatch(new RegExp(`EROFS at \\w+ ${ro}/`));
      expect(outcome.stderr, args.join(' ')).not.toMatch(STACK_LINE);
    }
  });

  it('an experiment whose config, data and model are on read-only media runs to the reference results (nothing is written beside the inputs)', async () => {
    const out = join(dir, 'rw-out');
    const outcome = await xlt(['run', join(ro, 'experiment.json'), '--out', out]);
    expect(outcome.code, outcome.stderr.slice(-2000)).toBe(0);
    expect(await resultRows(out)).toEqual(reference.rows);
  });
});
