import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openCheckpoint, writeSafetensors, type TensorToWrite } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeToyCheckpoint } from '../testing/checkpoint-fixtures.js';
import { mergeCheckpoints } from './merge-checkpoints.js';
import { numpyReference, type ReferenceCase } from './reference.testing.js';

let dir: string;
let cleanup: () => Promise<void>;
const models: string[] = [];
let base: string;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('xlt-merge-methods-'));
  // the toy BERT shapes (word embeddings of 400 elements down to a 3-element bias) plus an I64 position buffer
  for (const seed of [1, 2, 3]) {
    models.push(join(dir, `m${seed}.safetensors`));
    await writeToyCheckpoint(models.at(-1)!, seed, { positionOffset: 0 });
  }
  base = join(dir, 'base.safetensors');
  await writeToyCheckpoint(base, 100, { positionOffset: 0 });
});
afterAll(() => cleanup());

async function readAll(path: string): Promise<Map<string, Float64Array>> {
  const c = await openCheckpoint(path);
  const out = new Map<string, Float64Array>();
  for (const t of c.tensors.values()) if (t.dtype !== 'I64') out.set(t.name, await c.readFloat64(t.name));
  await c.close();
  return out;
}

const CASES: (Omit<ReferenceCase, 'models'> & { label: string })[] = [
  { label: 'linear, weights 1:2:3', method: 'linear' },
  { label: 'linear, not normalised', method: 'linear', params: { normalize: false } },
  { label: 'task_arithmetic, lambda 0.7', method: 'task_arithmetic', params: { lambda: 0.7 } },
  { label: 'task_arithmetic, normalised', method: 'task_arithmetic', params: { normalize: true } },
  { label: 'ties, density 0.5', method: 'ties', params: { density: 0.5 } },
  { label: 'ties, per-model densities, lambda 0.9, not normalised', method: 'ties', params: { density: [0.3, 0.6, 0.9], lambda: 0.9, normalize: false } },
  { label: 'dare_linear, density 0.5, seed 7', method: 'dare_linear', params: { density: 0.5, seed: 7 } },
  { label: 'dare_linear, no rescale, seed 2^40 + 5', method: 'dare_linear', params: { density: 0.7, rescale: false, seed: 2 ** 40 + 5 } },
  { label: 'dare_ties, density 0.4, normalised', method: 'dare_ties', params: { density: 0.4, seed: 3, normalize: true } },
  { label: 'model_stock, 3 models', method: 'model_stock' },
  { label: 'slerp, t 0.3', method: 'slerp', params: { t: 0.3 } },
];

describe('merge methods against the NumPy transcription of their papers (mergekit semantics)', () => {
  for (const c of CASES) {
    it(c.label, async () => {
      const count = c.method === 'slerp' ? 2 : 3;
      const plan = models.slice(0, count).map((path, j) => ({ path, weight: c.method === 'slerp' || c.method === 'model_stock' ? 1 : [1, 2, 3][j]! * (c.method === 'task_arithmetic' ? 0.25 : 1) }));
      const withBase = c.method !== 'linear' && c.method !== 'slerp';
      const out = join(dir, `${c.label.replace(/[^a-z0-9]+/g, '-')}.safetensors`);
      await mergeCheckpoints(plan, out, { method: c.method, params: c.params ?? {}, ...(withBase ? { base } : {}), dtype: 'F64' });
      const expected = await numpyReference(dir, { method: c.method, params: c.params ?? {}, models: plan, ...(withBase ? { base } : {}) });
      const merged = await readAll(out);
      expect([...merged.keys()].sort()).toEqual(Object.keys(expected).sort());
      for (const [name, values] of merged) {
        const ref = expected[name]!;
        expect(values.length).toBe(ref.length);
        for (let i = 0; i < ref.length; i++) {
          if (Math.abs(values[i]! - ref[i]!) > 1e-6) expect.fail(`${c.label}: ${name}[${i}] = ${values[i]}, reference ${ref[i]}`);
        }
      }
      // the integer buffer is copied from the first model
      const c0 = await openCheckpoint(out);
      expect(Array.from(new BigInt64Array((await c0.readBytes('bert.embeddings.position_ids')).slice().buffer))).toEqual([0n, 1n, 2n, 3n]);
      await c0.close();
    });
  }

  it('DARE drops about 1 - density of each task vector, and a different seed draws a different mask', async () => {
    const run = async (seed: number) => {
      const out = join(dir, `dare-one-${seed}.safetensors`);
      await mergeCheckpoints([{ path: models[0]!, weight: 1 }], out, { method: 'dare_linear', params: { density: 0.3, seed }, base, dtype: 'F64' });
      const [merged, b] = [await readAll(out), await readAll(base)];
      const name = 'bert.embeddings.word_embeddings.weight';
      return merged.get(name)!.map((v, i) => (v === b.get(name)![i] ? 1 : 0));
    };
    const [a, b] = [await run(1), await run(2)];
    const dropped = a.reduce((s, x) => s + x, 0) / a.length;
    expect(dropped).toBeGreaterThan(0.6);
    expect(dropped).toBeLessThan(0.8);
    expect(a.some((x, i) => x !== b[i])).toBe(true);
  });

  it('slerp falls back to linear interpolation for colinear models, and t = 0 gives the first model', async () => {
    const write = (path: string, values: number[]) => writeSafetensors(path, [{ name: 'w', dtype: 'F32', shape: [values.length], data: new Float32Array(values) }]);
    const [a, b] = [join(dir, 'col-a.safetensors'), join(dir, 'col-b.safetensors')];
    await write(a, [1, -2, 3, 0.5]);
    await write(b, [2, -4, 6, 1]);
    await mergeCheckpoints([{ path: a, weight: 1 }, { path: b, weight: 1 }], join(dir, 'col.safetensors'), { method: 'slerp', params: { t: 0.25 } });
    expect(Array.from((await readAll(join(dir, 'col.safetensors'))).get('w')!)).toEqual([1.25, -2.5, 3.75, 0.625]);
    await mergeCheckpoints([{ path: models[0]!, weight: 1 }, { path: models[1]!, weight: 1 }], join(dir, 'slerp0.safetensors'), { method: 'slerp', params: { t: 0 } });
    const [got, first] = [await readAll(join(dir, 'slerp0.safetensors')), await readAll(models[0]!)];
    for (const [name, v] of got) expect(Array.from(v)).toEqual(Array.from(first.get(name)!));
  });
});

describe('TIES by hand on 4 elements', () => {
  const tensor = (values: number[]): TensorToWrite[] => [{ name: 'w', dtype: 'F64', shape: [4], data: new Float64Array(values) }];
  const b = [0.5, 0.5, 0.5, 0.5];
  // task vectors: d1 = [1, -2, 3, 0.5], d2 = [-1, 1, 2, -4], d3 = [2, -3, -1, 0.25]
  const deltas = [
    [1, -2, 3, 0.5],
    [-1, 1, 2, -4],
    [2, -3, -1, 0.25],
  ];
  let paths: string[];
  let basePath: string;
  beforeAll(async () => {
    basePath = join(dir, 'hand-base.safetensors');
    await writeSafetensors(basePath, tensor(b));
    paths = [];
    for (const [j, d] of deltas.entries()) {
      paths.push(join(dir, `hand-${j}.safetensors`));
      await writeSafetensors(paths[j]!, tensor(d.map((x, i) => x + b[i]!)));
    }
  });
  const merge = async (label: string, weights: number[], params: Record<string, unknown>) => {
    const out = join(dir, `hand-${label}.safetensors`);
    await mergeCheckpoints(paths.map((path, j) => ({ path, weight: weights[j]! })), out, { method: 'ties', params, base: basePath });
    return Array.from((await readAll(out)).get('w')!);
  };

  it('density 0.5, unit weights: trimmed [0,-2,3,0] [0,0,2,-4] [2,-3,0,0], signs + - + -, disjoint means 2, -2.5, 2.5, -4', async () => {
    expect(await merge('a', [1, 1, 1], { density: 0.5 })).toEqual([2.5, -2, 3, -3.5]);
  });

  it('density 1 with weights 1, 2, 1: weighted sums 1, -3, 6, -7.75 elect + - + -; weighted disjoint means', async () => {
    // element 0: agreeing d1 (w 1) and d3 (w 1): (1 + 2) / 2; element 1: d1 and d3 (w 1 each): (-2 - 3) / 2;
    // element 2: d1 (w 1), d2 (w 2): (3 + 4) / 3; element 3: d2 (w 2): -8 / 2
    expect(await merge('b', [1, 2, 1], { density: 1 })).toEqual([0.5 + 1.5, 0.5 - 2.5, 0.5 + 7 / 3, 0.5 - 4]);
  });

  it('a zero sum elects +, lambda scales, and normalize: false sums the agreeing values', async () => {
    // weights 1, 1, 0 (d3 ignored): element 0 sums to 0 and elects +, so only d1 (1) agrees
    expect(await merge('c', [1, 1, 0], { density: 1, lambda: 2, normalize: false })).toEqual([0.5 + 2, 0.5 - 4, 0.5 + 10, 0.5 - 8]);
  });
});

describe('malformed merges throw clear errors and leave no output or temporary file', () => {
  const files = async () => (await readdir(dir)).sort();
  const refused = async (run: () => Promise<unknown>, message: string | RegExp) => {
    const before = await files();
    await expect(run()).rejects.toThrow(message);
    expect(await files()).toEqual(before);
  };
  const plan = () => models.map((path) => ({ path, weight: 1 }));
  const out = () => join(dir, 'refused.safetensors');

  it('a base method without a base', async () => {
    for (const method of ['task_arithmetic', 'ties', 'dare_linear', 'dare_ties', 'model_stock']) {
      await refused(() => mergeCheckpoints(plan(), out(), { method }), `Merge method "${method}" needs a base model`);
    }
  });

  it('a base given to a method that takes none', async () => {
    await refused(() => mergeCheckpoints(plan(), out(), { method: 'linear', base }), `Merge method "linear" takes no base model, found base ${base}`);
  });

  it('a shape mismatch between a model and the base, naming tensor, file, expected and found shape', async () => {
    const odd = join(dir, 'odd-base.safetensors');
    await writeSafetensors(odd, [
      ...(await import('../testing/checkpoint-fixtures.js')).toyCheckpointTensors(100, { positionOffset: 0 }).filter((t) => t.name !== 'classifier.bias'),
      { name: 'classifier.bias', dtype: 'F32', shape: [4], data: new Float32Array(4) },
    ]);
    await refused(
      () => mergeCheckpoints(plan(), out(), { method: 'ties', params: { density: 0.5 }, base: odd }),
      `${odd} at "classifier.bias": expected shape [3] as in ${models[0]}, found shape [4]`,
    );
  });

  it('density outside (0, 1], naming the parameter, the range and the value', async () => {
    await refused(() => mergeCheckpoints(plan(), out(), { method: 'ties', params: { density: 1.5 }, base }), 'ties.density: expected a number in (0, 1], found 1.5');
    await refused(() => mergeCheckpoints(plan(), out(), { method: 'dare_ties', params: { density: 0 }, base }), 'dare_ties.density: expected a number in (0, 1], found 0');
    await refused(() => mergeCheckpoints(plan(), out(), { method: 'ties', params: { density: [0.5, 0.5] }, base }), 'ties.density: expected one density per model (3), found a list of 2');
  });

  it('slerp with other than two models', async () => {
    await refused(() => mergeCheckpoints(plan(), out(), { method: 'slerp' }), 'Merge method "slerp" merges exactly 2 model(s) besides the base, found 3');
    await refused(() => mergeCheckpoints(plan().slice(0, 1), out(), { method: 'slerp' }), 'found 1');
  });

  it('an unknown parameter, listing the known ones, and an unknown method, listing the methods', async () => {
    await refused(() => mergeCheckpoints(plan(), out(), { method: 'ties', params: { densty: 0.5 }, base }), 'ties.densty: expected one of the parameters density, lambda, normalize, found the unknown parameter "densty"');
    await refused(() => mergeCheckpoints(plan(), out(), { method: 'model_stock', params: { filter_wise: true }, base }), 'model_stock.filter_wise: expected no parameters (this method takes none)');
    await refused(() => mergeCheckpoints(plan(), out(), { method: 'della' }), /Unknown merge method "della".*dare_ties.*ties/);
  });

  it('a non-finite result, unless allowed', async () => {
    const params = { lambda: 1e308 };
    await refused(() => mergeCheckpoints(plan(), out(), { method: 'task_arithmetic', params, base }), /Merge method "task_arithmetic" produced a non-finite value\n.*: expected a finite merged value .*found -?Infinity/);
    await mergeCheckpoints(plan(), out(), { method: 'task_arithmetic', params, base, allowNonFinite: true });
    expect([...(await readAll(out())).values()].some((v) => v.some((x) => !Number.isFinite(x)))).toBe(true);
  });

  it('an existing output without overwrite, and an output that is an input', async () => {
    const existing = join(dir, 'existing.safetensors');
    await mergeCheckpoints(plan(), existing, { method: 'linear' });
    await refused(() => mergeCheckpoints(plan(), existing, { method: 'linear' }), `Output ${existing} already exists`);
    await refused(() => mergeCheckpoints(plan(), base, { method: 'ties', base }), `Output ${base} is the input ${base}`);
    await mergeCheckpoints(plan(), existing, { method: 'linear', params: { normalize: true }, overwrite: true });
  });
});
