import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSafetensors, type FloatDtype } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { averageCheckpoints } from './average-checkpoints.js';
import { parallelTesting } from './parallel-average.js';
import { toyCheckpointTensors, writeToyCheckpoint, writeToyModelFolder } from './testing/checkpoint-fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('xlt-avg-par-')));
afterEach(() => cleanup());

/** Writes `n` checkpoints of `dtype` with odd-sized tensors (so blocks end in partial groups of 4). */
async function inputs(n: number, dtype: FloatDtype): Promise<string[]> {
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    paths.push(join(dir, `c${i}-${dtype}.safetensors`));
    await writeToyCheckpoint(paths[i]!, 10 + i, { dtype, tied: true, positionOffset: 0, large: { tensors: 2, elements: 10_007 } });
  }
  return paths;
}

describe('averageCheckpoints on several threads', () => {
  // the helper threads average every block they can take, so these tests check their bytes, not the main thread's
  beforeAll(() => void (parallelTesting.mainClaimsShared = false));
  afterAll(() => void (parallelTesting.mainClaimsShared = true));

  for (const [inDtype, outDtype] of [['F32', 'F32'], ['BF16', 'F32'], ['F64', 'F64'], ['F32', 'F64'], ['BF16', 'BF16'], ['F16', 'F16']] as const) {
    it(`writes the same bytes as one thread (${inDtype} in, ${outDtype} out), for any block size and thread count`, async () => {
      const paths = await inputs(3, inDtype);
      const plan = paths.map((path, i) => ({ path, weight: [0.2, 0.5, 0.3][i]! }));
      const sequential = join(dir, 'one.safetensors');
      await averageCheckpoints(plan, sequential, { workers: 1, dtype: outDtype });
      const expected = await readFile(sequential);
      for (const [workers, chunkElements] of [[2, 1001], [3, 64], [2, 1 << 15]] as const) {
        const parallel = join(dir, `par-${workers}-${chunkElements}.safetensors`);
        await averageCheckpoints(plan, parallel, { workers, chunkElements, dtype: outDtype });
        const got = await readFile(parallel);
        expect(got.length).toBe(expected.length);
        expect(Buffer.compare(got, expected), `workers ${workers}, chunk ${chunkElements}: bytes differ`).toBe(0);
      }
    });
  }

  it('writes the same sharded HF folder as one thread', async () => {
    const folders = [join(dir, 'm1'), join(dir, 'm2')];
    for (let i = 0; i < 2; i++) await writeToyModelFolder(folders[i]!, i + 1, { maxShardBytes: 50_000, large: { tensors: 3, elements: 9_001 } });
    await averageCheckpoints(folders.map((path) => ({ path, weight: 1 })), join(dir, 'one'), { workers: 1 });
    await averageCheckpoints(folders.map((path) => ({ path, weight: 1 })), join(dir, 'two'), { workers: 2, chunkElements: 512 });
    const files = (await readdir(join(dir, 'one'))).sort();
    expect(files.filter((f) => f.endsWith('.safetensors')).length).toBeGreaterThan(1);
    expect((await readdir(join(dir, 'two'))).sort()).toEqual(files);
    for (const f of files) expect(Buffer.compare(await readFile(join(dir, 'two', f)), await readFile(join(dir, 'one', f))), f).toBe(0);
  });

  it('a NaN found by a helper thread is the same clear error, and leaves no output', async () => {
    const good = join(dir, 'good.safetensors');
    const bad = join(dir, 'bad.safetensors');
    const elements = 20_000;
    await writeToyCheckpoint(good, 1, { large: { tensors: 1, elements } });
    const tensors = toyCheckpointTensors(2, { large: { tensors: 1, elements } });
    const big = tensors.findIndex((t) => t.name === 'layer.0.weight');
    const data = (tensors[big]!.data as () => Float32Array)();
    data[elements - 3] = NaN; // in the last block: claimed by whichever thread gets there
    tensors[big] = { ...tensors[big]!, data };
    await writeSafetensors(bad, tensors);
    const out = join(dir, 'out.safetensors');
    const before = (await readdir(dir)).sort();
    const name = tensors[big]!.name.replace(/\./g, '\\.');
    for (const chunkElements of [100, 1000]) {
      const error = await averageCheckpoints([{ path: good, weight: 1 }, { path: bad, weight: 1 }], out, { workers: 2, chunkElements, rejectNaN: true }).then(() => undefined, (e: unknown) => e as Error);
      expect(error).toBeInstanceOf(Error);
      expect(error!.name).toBe('InputError');
      expect(error!.message).toMatch(new RegExp(`bad\\.safetensors at "${name}"\\[${elements - 3}\\] \\(byte \\d+\\): expected a finite value \\(NaN and infinity are refused; --allow-non-finite averages them\\), found NaN`));
      expect(existsSync(out)).toBe(false);
      expect((await readdir(dir)).sort()).toEqual(before);
    }
  });

  it('rejects a thread count that is not a positive integer', async () => {
    const [a] = await inputs(1, 'F32');
    await expect(averageCheckpoints([{ path: a!, weight: 1 }], join(dir, 'o.safetensors'), { workers: 0 })).rejects.toThrow(/workers must be a positive integer, found 0/);
  });

  it('fsync: false (benchmarks only) still writes the same file atomically', async () => {
    const paths = await inputs(2, 'F32');
    const plan = paths.map((path) => ({ path, weight: 1 }));
    await averageCheckpoints(plan, join(dir, 'synced.safetensors'), { workers: 2, chunkElements: 999 });
    await averageCheckpoints(plan, join(dir, 'unsynced.safetensors'), { workers: 2, chunkElements: 999, fsync: false });
    expect(Buffer.compare(await readFile(join(dir, 'unsynced.safetensors')), await readFile(join(dir, 'synced.safetensors')))).toBe(0);
  });
});
