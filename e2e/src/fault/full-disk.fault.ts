import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '@xlt/plugin-api/testing';
import { xlt } from '../run-xlt.js';
import { STACK_LINE, referenceExperiment, resultRows, temporaries, weightHashes, type ReferenceExperiment } from './fault-fixtures.js';
import { mountTmpfs, resizeTmpfs, unmount } from './mounts.js';

// A full disk is a fault, not a bug: the user gets the error, the path and what to do, and the same command resumes.
describe('a full disk (a small tmpfs)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let reference: ReferenceExperiment;
  const mounted: string[] = [];

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('xlt-fault-disk-'));
    reference = await referenceExperiment(join(dir, 'qs'));
  });
  afterAll(async () => {
    for (const m of mounted) unmount(m);
    await cleanup();
  });

  // Sizes that fill up at different phases: the output folder's first files, mid-training, averaging and evaluation.
  for (const kib of [16, 700, 3000]) {
    it(`xlt run stops on a ${kib} KiB disk with ENOSPC, the path and what to do; after space is freed the same command ends with the reference results`, async () => {
      const disk = join(dir, `disk-${kib}`);
      mountTmpfs(disk, kib * 1024);
      mounted.push(disk);
      const out = join(disk, 'out');
      const full = await xlt(['run', reference.config, '--out', out]);
      expect(full.code, full.stderr.slice(-2000)).toBe(1);
      // The path on the full disk: the file written, or the destination of a copy (`copyfile <src> -> <dest>`).
      expect(full.stderr).toMatch(new RegExp(`ENOSPC at \\w+ (\\S+ -> )?${disk}/`));
      expect(full.stderr).toContain('the disk is full: free space or give an output folder on another disk (--out), then run the same command again to resume');
      expect(full.stderr).not.toMatch(STACK_LINE);
      expect(full.stderr).not.toContain('unexpected error');

      resizeTmpfs(disk, 256 * 2 ** 20);
      const resumed = await xlt(['run', reference.config, '--out', out]);
      expect(resumed.code, resumed.stderr.slice(-2000)).toBe(0);
      expect(await resultRows(out)).toEqual(reference.rows);
      expect(await weightHashes(out)).toEqual(reference.weights);
    });
  }

  it('xlt average to a full disk fails with ENOSPC and leaves nothing there, neither output nor temporary', async () => {
    const disk = join(dir, 'disk-average');
    mountTmpfs(disk, 64 * 1024);
    mounted.push(disk);
    const run = [...reference.weights.keys()].find((p) => /^runs\/[^/]+\/checkpoint-\d+\//.test(p))!.split('/').slice(0, 2).join('/');
    const out = join(disk, 'ca');
    const outcome = await xlt(['average', join(reference.folder, 'results', run), '--out', out]);
    expect(outcome.code, outcome.stderr.slice(-2000)).toBe(1);
    expect(outcome.stderr).toMatch(new RegExp(`ENOSPC at \\w+ ${disk}/`));
    expect(outcome.stderr).not.toMatch(STACK_LINE);
    expect(await readdir(disk)).toEqual([]);
    expect(await temporaries(disk)).toEqual([]);
  });
});
