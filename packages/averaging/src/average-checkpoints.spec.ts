import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, SafetensorsFile, openCheckpoint, writeSafetensors, type FloatDtype } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { averageCheckpoints } from './average-checkpoints.js';
import { toyCheckpointTensors, writeToyCheckpoint, writeToyModelFolder } from './testing/checkpoint-fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('xlt-avg-')));
afterEach(() => cleanup());

/** Independent decoding from the IEEE definitions (not the library's converters). */
function decode(bytes: Uint8Array, dtype: FloatDtype): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  const size = { F16: 2, BF16: 2, F32: 4, F64: 8 }[dtype];
  for (let i = 0; i < bytes.byteLength; i += size) {
    if (dtype === 'F32') out.push(view.getFloat32(i, true));
    else if (dtype === 'F64') out.push(view.getFloat64(i, true));
    else {
      const h = view.getUint16(i, true);
      const sign = h & 0x8000 ? -1 : 1;
      if (dtype === 'F16') {
        const e = (h >> 10) & 0x1f;
        const m = h & 0x3ff;
        out.push(e === 0 ? sign * m * 2 ** -24 : e === 31 ? (m ? NaN : sign * Infinity) : sign * (1 + m / 1024) * 2 ** (e - 15));
      } else {
        const e = (h >> 7) & 0xff;
        const m = h & 0x7f;
        out.push(e === 0 ? sign * m * 2 ** -133 : e === 255 ? (m ? NaN : sign * Infinity) : sign * (1 + m / 128) * 2 ** (e - 127));
      }
    }
  }
  return out;
}

/** One unit in the last place of `x` in `dtype`. */
function ulp(x: number, dtype: FloatDtype): number {
  const [mantBits, minExp] = { F16: [10, -14], BF16: [7, -126], F32: [23, -126], F64: [52, -1022] }[dtype];
  const e = Math.max(x === 0 ? minExp : Math.floor(Math.log2(Math.abs(x))), minExp);
  return 2 ** (e - mantBits);
}

async function expectAverage(paths: string[], weights: number[], out: string, outDtype: FloatDtype): Promise<number> {
  const inputs = await Promise.all(paths.map((p) => openCheckpoint(p)));
  const result = await openCheckpoint(out);
  let checked = 0;
  try {
    for (const t of result.tensors.values()) {
      if (t.dtype === 'I64') continue;
      expect(t.dtype).toBe(outDtype);
      const got = decode(await result.readBytes(t.name), outDtype);
      const sources = await Promise.all(inputs.map(async (c) => decode(await c.readBytes(t.name), c.tensors.get(t.name)!.dtype as FloatDtype)));
      for (let i = 0; i < got.length; i++) {
        let ref = 0;
        for (let j = 0; j < sources.length; j++) ref += weights[j]! * sources[j]![i]!;
        expect(Math.abs(got[i]! - ref), `${t.name}[${i}]: got ${got[i]}, reference ${ref}`).toBeLessThanOrEqual(ulp(ref, outDtype));
        checked++;
      }
    }
  } finally {
    await Promise.all([...inputs, result].map((c) => c.close()));
  }
  return checked;
}

describe('averageCheckpoints: the numbers', () => {
  for (const dtype of ['F32', 'F16', 'BF16'] as const) {
    it(`averages ${dtype} checkpoints within 1 ulp of a float64 reference (uniform and weighted)`, async () => {
      const paths = [0, 1, 2].map((i) => join(dir, `c${i}.safetensors`));
      for (let i = 0; i < 3; i++) await writeToyCheckpoint(paths[i]!, i + 1, { dtype });
      const out = join(dir, 'avg.safetensors');
      await averageCheckpoints(paths.map((path) => ({ path, weight: 1 })), out, { chunkElements: 64 });
      expect(await expectAverage(paths, [1 / 3, 1 / 3, 1 / 3], out, dtype)).toBe(400 + 64 + 8 + 8 + 24 + 3);
      const weighted = join(dir, 'weighted.safetensors');
      await averageCheckpoints(paths.map((path, i) => ({ path, weight: [0.5, 0.3, 0.2][i]! })), weighted, {});
      await expectAverage(paths, [0.5, 0.3, 0.2], weighted, dtype);
    });
  }

  it('converts the output dtype on request (F32 inputs to BF16 and F16)', async () => {
    const paths = [join(dir, 'a.safetensors'), join(dir, 'b.safetensors')];
    await writeToyCheckpoint(paths[0]!, 5);
    await writeToyCheckpoint(paths[1]!, 6);
    for (const dtype of ['BF16', 'F16'] as const) {
      const out = join(dir, `avg-${dtype}.safetensors`);
      await averageCheckpoints(paths.map((path) => ({ path, weight: 0.5 })), out, { dtype });
      await expectAverage(paths, [0.5, 0.5], out, dtype);
    }
  });

  it('a single checkpoint of weight 1 is copied bit for bit (selection strategies)', async () => {
    const a = join(dir, 'a.safetensors');
    await writeToyCheckpoint(a, 9, { dtype: 'BF16' });
    const out = join(dir, 'sel.safetensors');
    await averageCheckpoints([{ path: a, weight: 1 }], out);
    const [x, y] = [await SafetensorsFile.open(a), await SafetensorsFile.open(out)];
    for (const name of x.tensors.keys()) expect(await y.readBytes(name)).toEqual(await x.readBytes(name));
    await Promise.all([x.close(), y.close()]);
  });

  it('averages tied weights once and writes them tied; copies equal integer tensors', async () => {
    const paths = [join(dir, 'a.safetensors'), join(dir, 'b.safetensors')];
    await writeToyCheckpoint(paths[0]!, 1, { tied: true, positionOffset: 0 });
    await writeToyCheckpoint(paths[1]!, 2, { tied: true, positionOffset: 0 });
    const out = join(dir, 'avg.safetensors');
    await averageCheckpoints(paths.map((path) => ({ path, weight: 0.5 })), out);
    const st = await SafetensorsFile.open(out);
    const emb = st.tensors.get('bert.embeddings.word_embeddings.weight')!;
    const dec = st.tensors.get('cls.predictions.decoder.weight')!;
    expect([dec.start, dec.end]).toEqual([emb.start, emb.end]);
    expect(new BigInt64Array((await st.readBytes('bert.embeddings.position_ids')).buffer)).toEqual(new BigInt64Array([0n, 1n, 2n, 3n]));
    await st.close();
    await expectAverage(paths, [0.5, 0.5], out, 'F32');
  });

  it('counts a checkpoint given twice twice (its weights add up), not once', async () => {
    const [a, b] = [join(dir, 'a.safetensors'), join(dir, 'b.safetensors')];
    await writeToyCheckpoint(a, 1);
    await writeToyCheckpoint(b, 2);
    const out = join(dir, 'twice.safetensors');
    const result = await averageCheckpoints([a, a, b].map((path) => ({ path, weight: 1 })), out);
    expect(result.inputs).toEqual([{ path: a, weight: 2 / 3 }, { path: b, weight: 1 / 3 }]);
    await expectAverage([a, b], [2 / 3, 1 / 3], out, 'F32');
  });

  it('writes a complete HF folder from sharded folders: config and tokenizer copied, shards and index', async () => {
    const folders = [join(dir, 'm1'), join(dir, 'm2')];
    await writeToyModelFolder(folders[0]!, 1, { maxShardBytes: 1024, tied: true }, { format: 'pt' });
    await writeToyModelFolder(folders[1]!, 2, { maxShardBytes: 1024, tied: true }, { format: 'pt' });
    const out = join(dir, 'avg');
    const result = await averageCheckpoints(folders.map((path) => ({ path, weight: 1 })), out);
    expect(result.inputs.map((i) => i.weight)).toEqual([0.5, 0.5]);
    const files = (await readdir(out)).sort();
    expect(files).toEqual(['config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json', 'vocab.txt']);
    expect(await readFile(join(out, 'config.json'), 'utf8')).toBe(await readFile(join(folders[0]!, 'config.json'), 'utf8'));
    const avg = await openCheckpoint(out);
    expect(avg.metadata.format).toBe('pt');
    expect(JSON.parse(avg.metadata.xlt_average!)).toEqual(folders.map((path) => ({ path, weight: 0.5 })));
    await avg.close();
    await expectAverage(folders, [0.5, 0.5], out, 'F32');
    expect((await readdir(dir)).sort()).toEqual(['avg', 'm1', 'm2']);
  });
});

describe('averageCheckpoints: bad input gives a clear error and no output', () => {
  const good = async (name: string, seed: number, options = {}) => {
    const path = join(dir, name);
    await writeToyCheckpoint(path, seed, options);
    return path;
  };
  const raw = (header: unknown, data: Uint8Array, patch?: (b: Uint8Array) => void) => {
    const body = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
    const out = new Uint8Array(8 + body.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(body.length), true);
    out.set(body, 8);
    out.set(data, 8 + body.length);
    patch?.(out);
    return out;
  };
  const badFile = async (bytes: Uint8Array) => {
    const path = join(dir, 'bad.safetensors');
    await writeFile(path, bytes);
    return path;
  };
  const f32 = (n: number) => new Uint8Array(4 * n);
  const withValue = async (name: string, value: number) => {
    const path = join(dir, name);
    const tensors = toyCheckpointTensors(3);
    tensors[2] = { ...tensors[2]!, data: new Float32Array([1, 2, value, 4, 5, 6, 7, 8]) };
    await writeSafetensors(path, tensors);
    return path;
  };

  const cases: [string, () => Promise<{ plan: { path: string; weight: number }[]; options?: object; out?: string }>, RegExp][] = [
    ['a truncated file', async () => {
      const a = await good('a.safetensors', 1);
      const bytes = await readFile(a);
      return { plan: [{ path: a, weight: 1 }, { path: await badFile(bytes.subarray(0, bytes.length - 10)), weight: 1 }] };
    }, /bad\.safetensors.*(unused|data region|end of the file|within)/s],
    ['a file shorter than 8 bytes', async () => ({ plan: [{ path: await badFile(new Uint8Array(3)), weight: 1 }] }), /bad\.safetensors.*8-byte little-endian header length/],
    ['a header length beyond the file', async () => ({ plan: [{ path: await badFile(raw({}, f32(0), (b) => new DataView(b.buffer).setBigUint64(0, 99n, true))), weight: 1 }] }), /header length of at most/],
    ['a header that is not JSON', async () => ({ plan: [{ path: await badFile(raw('{"x":', f32(0))), weight: 1 }] }), /expected a JSON header/],
    ['overlapping offsets', async () => ({ plan: [{ path: await badFile(raw({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, f32(3))), weight: 1 }] }), /header\["b"\]\.data_offsets.*overlap/],
    ['out-of-range offsets', async () => ({ plan: [{ path: await badFile(raw({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32(1))), weight: 1 }] }), /within the data region of 4 bytes/],
    ['an unknown dtype', async () => ({ plan: [{ path: await badFile(raw({ a: { dtype: 'Q4', shape: [1], data_offsets: [0, 4] } }, f32(1))), weight: 1 }] }), /dtype: expected one of .*found "Q4"/],
    ['a hole in the data region', async () => ({ plan: [{ path: await badFile(raw({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(2))), weight: 1 }] }), /without holes/],
    ['a shape that does not match the offsets', async () => ({ plan: [{ path: await badFile(raw({ a: { dtype: 'F16', shape: [3], data_offsets: [0, 4] } }, f32(1))), weight: 1 }] }), /expected 6 bytes for F16 of shape \[3\], found 4 bytes/],
    ['non-string metadata', async () => ({ plan: [{ path: await badFile(raw({ __metadata__: { step: 5 } }, f32(0))), weight: 1 }] }), /__metadata__.*expected a string/],
    ['a tensor missing in one input', async () => {
      const a = await good('a.safetensors', 1);
      const b = join(dir, 'b.safetensors');
      await writeSafetensors(b, toyCheckpointTensors(2).filter((t) => t.name !== 'classifier.bias'));
      return { plan: [{ path: a, weight: 1 }, { path: b, weight: 1 }] };
    }, /b\.safetensors at "classifier\.bias": expected tensor "classifier\.bias" as in .*a\.safetensors, found no such tensor/],
    ['an extra tensor in one input', async () => {
      const a = await good('a.safetensors', 1);
      return { plan: [{ path: a, weight: 1 }, { path: await good('b.safetensors', 2, { positionOffset: 0 }), weight: 1 }] };
    }, /"bert\.embeddings\.position_ids": expected only the tensors of .*a\.safetensors, found an extra tensor/],
    ['mismatched shapes', async () => {
      const a = await good('a.safetensors', 1);
      const b = join(dir, 'b.safetensors');
      await writeSafetensors(b, toyCheckpointTensors(2).map((t) => (t.name === 'classifier.bias' ? { ...t, shape: [1, 3] } : t)));
      return { plan: [{ path: a, weight: 1 }, { path: b, weight: 1 }] };
    }, /"classifier\.bias": expected F32 \[3\] as in .*a\.safetensors, found F32 \[1, 3\]/],
    ['mismatched dtypes', async () => ({
      plan: [{ path: await good('a.safetensors', 1), weight: 1 }, { path: await good('b.safetensors', 2, { dtype: 'F16' }), weight: 1 }],
    }), /expected F32 \[50, 8\] as in .*a\.safetensors, found F16 \[50, 8\]/],
    ['NaN when rejectNaN is on', async () => ({
      plan: [{ path: await good('a.safetensors', 1), weight: 1 }, { path: await withValue('nan.safetensors', NaN), weight: 1 }],
      options: { rejectNaN: true },
    }), /nan\.safetensors at "bert\.encoder\.layer\.0\.attention\.self\.query\.bias"\[2\] \(byte \d+\): expected a finite value \(NaN and infinity are refused; --allow-non-finite averages them\), found NaN/],
    ['infinity when rejectNaN is on', async () => ({
      plan: [{ path: await withValue('inf.safetensors', -Infinity), weight: 1 }],
      options: { rejectNaN: true },
    }), /found -Infinity/],
    ['integer tensors that differ', async () => ({
      plan: [{ path: await good('a.safetensors', 1, { positionOffset: 0 }), weight: 1 }, { path: await good('b.safetensors', 2, { positionOffset: 1 }), weight: 1 }],
    }), /b\.safetensors at "bert\.embeddings\.position_ids"\[0\] \(byte \d+\): expected the same I64 values as .*a\.safetensors/],
    ['weights tied in one input only', async () => {
      const a = await good('a.safetensors', 1, { tied: true });
      const b = join(dir, 'b.safetensors');
      const t = toyCheckpointTensors(2);
      await writeSafetensors(b, [...t, { name: 'cls.predictions.decoder.weight', dtype: 'F32', shape: [50, 8], data: t[0]!.data }]);
      return { plan: [{ path: a, weight: 1 }, { path: b, weight: 1 }] };
    }, /expected the same weight tying as .*a\.safetensors \(sharing bytes with "bert\.embeddings\.word_embeddings\.weight"\), found stored on its own/],
    ['a missing input file', async () => ({ plan: [{ path: join(dir, 'nope.safetensors'), weight: 1 }] }), /nope\.safetensors: expected a safetensors file or a model folder, found ENOENT/],
    ['a negative weight', async () => ({ plan: [{ path: await good('a.safetensors', 1), weight: -1 }] }), /finite non-negative number, found -1/],
    ['weights that sum to zero', async () => ({ plan: [{ path: await good('a.safetensors', 1), weight: 0 }] }), /sum to 0/],
    ['an empty plan', async () => ({ plan: [] }), /plan is empty/],
    ['a sharded index naming a missing shard', async () => {
      const m = join(dir, 'm');
      await writeToyModelFolder(m, 1, { maxShardBytes: 1024 });
      const index = JSON.parse(await readFile(join(m, 'model.safetensors.index.json'), 'utf8'));
      index.weight_map['classifier.bias'] = 'model-00009-of-00009.safetensors';
      await writeFile(join(m, 'model.safetensors.index.json'), JSON.stringify(index));
      return { plan: [{ path: m, weight: 1 }], out: join(dir, 'out') };
    }, /model-00009-of-00009\.safetensors: expected a readable safetensors file, found ENOENT/],
    ['a folder without weights', async () => {
      await mkdir(join(dir, 'empty'));
      return { plan: [{ path: join(dir, 'empty'), weight: 1 }], out: join(dir, 'out') };
    }, /empty: expected a model folder with model\.safetensors or model\.safetensors\.index\.json, found neither/],
    ['a bad tensor in the second shard of a folder (fails mid-write)', async () => {
      const [m1, m2] = [join(dir, 'm1'), join(dir, 'm2')];
      await writeToyModelFolder(m1, 1, { maxShardBytes: 1024, positionOffset: 0 });
      await writeToyModelFolder(m2, 2, { maxShardBytes: 1024, positionOffset: 3 });
      return { plan: [{ path: m1, weight: 1 }, { path: m2, weight: 1 }], out: join(dir, 'out') };
    }, /position_ids.*expected the same I64 values/],
  ];

  it(`covers at least 20 malformed inputs (${cases.length})`, () => expect(cases.length).toBeGreaterThanOrEqual(20));

  for (const [what, build, message] of cases) {
    it(what, async () => {
      const { plan, options, out = join(dir, 'out.safetensors') } = await build();
      const before = (await readdir(dir)).sort();
      const error = await averageCheckpoints(plan, out, options).then(() => undefined, (e: unknown) => e as Error);
      expect(error, 'an error is raised').toBeInstanceOf(Error);
      expect(error!.name === 'InputError' || error!.name === 'XltError', `a reported error, not a crash: ${error!.stack}`).toBe(true);
      expect(error!.message).toMatch(message);
      expect(existsSync(out), 'no output').toBe(false);
      expect((await readdir(dir)).sort(), 'no temporary leftovers').toEqual(before);
    });
  }

  it('refuses to replace a non-empty output folder unless asked, leaving it untouched', async () => {
    const m = join(dir, 'm');
    await writeToyModelFolder(m, 1);
    const out = join(dir, 'out');
    await mkdir(out);
    await writeFile(join(out, 'keep.txt'), 'mine');
    await expect(averageCheckpoints([{ path: m, weight: 1 }], out)).rejects.toThrow(/already exists and is not empty/);
    expect(await readdir(out)).toEqual(['keep.txt']);
    await averageCheckpoints([{ path: m, weight: 1 }], out, { overwrite: true });
    expect((await readdir(out)).sort()).toEqual(['config.json', 'model.safetensors', 'vocab.txt']);
  });

  it('errors are InputErrors naming the file for header problems', async () => {
    const error = await averageCheckpoints([{ path: await badFile(new Uint8Array(2)), weight: 1 }], join(dir, 'o.safetensors')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
  });
});
