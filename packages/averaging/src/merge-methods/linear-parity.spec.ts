import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FloatDtype } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { averageCheckpoints } from '../average-checkpoints.js';
import { writeToyCheckpoint, writeToyModelFolder } from '../testing/checkpoint-fixtures.js';
import { mergeCheckpoints } from './merge-checkpoints.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir('xlt-linear-parity-')));
afterAll(() => cleanup());

describe('the linear merge method is the streaming averager: byte-identical outputs', () => {
  const cases: { label: string; dtype: FloatDtype; out?: FloatDtype; weights: number[] }[] = [
    { label: 'F32, weights 1:2:4', dtype: 'F32', weights: [1, 2, 4] },
    { label: 'BF16 in, BF16 out, uneven weights', dtype: 'BF16', weights: [0.3, 0.3, 0.4] },
    { label: 'F16 in, F32 out, a zero weight', dtype: 'F16', out: 'F32', weights: [1, 0, 3] },
    { label: 'F64 in, BF16 out', dtype: 'F64', out: 'BF16', weights: [1, 1, 1] },
  ];
  for (const [index, c] of cases.entries()) {
    it(`${c.label}, tied weights and an I64 buffer`, async () => {
      const paths = [1, 2, 3].map((s) => join(dir, `in-${index}-${s}.safetensors`));
      for (const [k, p] of paths.entries()) await writeToyCheckpoint(p, k + 1, { dtype: c.dtype, tied: true, positionOffset: 0 }, { format: 'pt' });
      const plan = paths.map((path, k) => ({ path, weight: c.weights[k]! }));
      const [a, b] = [join(dir, `avg-${index}.safetensors`), join(dir, `lin-${index}.safetensors`)];
      await averageCheckpoints(plan, a, { rejectNaN: true, ...(c.out ? { dtype: c.out } : {}) });
      await mergeCheckpoints(plan, b, { method: 'linear', ...(c.out ? { dtype: c.out } : {}) });
      const [x, y] = [await readFile(a), await readFile(b)];
      expect(y.length).toBe(x.length);
      expect(y.equals(x)).toBe(true);
    });
  }

  it('sharded HF folders: every file of the output folder is identical', async () => {
    const folders = [1, 2].map((s) => join(dir, `hf-${s}`));
    for (const [k, f] of folders.entries()) await writeToyModelFolder(f, k + 7, { maxShardBytes: 1200, tied: true });
    const plan = folders.map((path) => ({ path, weight: 1 }));
    const [a, b] = [join(dir, 'hf-avg'), join(dir, 'hf-lin')];
    await averageCheckpoints(plan, a);
    await mergeCheckpoints(plan, b, { method: 'linear' });
    const names = (await readdir(a)).sort();
    expect(names.filter((n) => n.endsWith('.safetensors')).length).toBeGreaterThan(1);
    expect((await readdir(b)).sort()).toEqual(names);
    for (const name of names) expect((await readFile(join(b, name))).equals(await readFile(join(a, name))), name).toBe(true);
  });
});
