import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { tempDir } from '../testing/fixtures.js';
import { openCheckpoint } from './checkpoint.js';
import { SafetensorsFile } from './file.js';
import { writeShardedSafetensors } from './sharded-writer.js';
import { writeSafetensors } from './writer.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('xlt-st-')));
afterEach(() => cleanup());

/** A file from a raw header object and data region, bypassing the writer, to build malformed inputs. */
function rawFile(header: unknown, data: Uint8Array, headerText?: string): Uint8Array {
  const body = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + body.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(body.length), true);
  out.set(body, 8);
  out.set(data, 8 + body.length);
  return out;
}

async function openError(bytes: Uint8Array): Promise<InputError> {
  const file = join(dir, 'bad.safetensors');
  await writeFile(file, bytes);
  const error = await SafetensorsFile.open(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  expect((error as Error).message).toContain(file);
  return error as InputError;
}

describe('writeSafetensors / SafetensorsFile', () => {
  it('round-trips tensors of several dtypes, metadata, and an 8-byte aligned header padded with spaces', async () => {
    const file = join(dir, 'a.safetensors');
    await writeSafetensors(
      file,
      [
        { name: 'w', dtype: 'F32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6.5]) },
        { name: 'h', dtype: 'F16', shape: [2], data: () => new Float32Array([0.5, -2]) },
        { name: 'b', dtype: 'BF16', shape: [1], data: new Float64Array([3]) },
        { name: 'ids', dtype: 'I64', shape: [2], data: new BigInt64Array([7n, -1n]) },
        { name: 'd', dtype: 'F64', shape: [], data: new Float64Array([Math.PI]) },
        { name: 'empty', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
      ],
      { format: 'pt', step: '10' },
    );
    const bytes = await readFile(file);
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    expect(bytes.subarray(8, 8 + n).toString().trimEnd().endsWith('}')).toBe(true);
    const st = await SafetensorsFile.open(file);
    try {
      expect(st.metadata).toEqual({ format: 'pt', step: '10' });
      expect([...st.tensors.keys()]).toEqual(['w', 'h', 'b', 'ids', 'd', 'empty']);
      expect(st.tensors.get('w')).toMatchObject({ dtype: 'F32', shape: [2, 3], start: 8 + n, end: 8 + n + 24 });
      expect([...(await st.readFloat32('w'))]).toEqual([1, 2, 3, 4, 5, 6.5]);
      expect([...(await st.readFloat32('h'))]).toEqual([0.5, -2]);
      expect([...(await st.readFloat64('b'))]).toEqual([3]);
      expect([...(await st.readFloat64('d'))]).toEqual([Math.PI]);
      expect(new BigInt64Array((await st.readBytes('ids')).buffer)).toEqual(new BigInt64Array([7n, -1n]));
      expect(await st.readFloat32('empty')).toHaveLength(0);
      const part = new Uint8Array(8);
      await st.readInto('w', part, 4);
      expect([...new Float32Array(part.buffer)]).toEqual([2, 3]);
      await expect(st.readFloat32('ids')).rejects.toThrow(/float dtype/);
      await expect(st.readBytes('nope')).rejects.toThrow(/no tensor "nope"/);
    } finally {
      await st.close();
    }
  });

  it('readIntoSync reads a slice of a tensor synchronously, through the file and the checkpoint view', async () => {
    const file = join(dir, 's.safetensors');
    await writeSafetensors(file, [
      { name: 'ids', dtype: 'I64', shape: [1], data: new BigInt64Array([9n]) },
      { name: 'w', dtype: 'F32', shape: [6], data: new Float32Array([1, 2, 3, 4, 5, 6.5]) },
    ]);
    const checkpoint = await openCheckpoint(file);
    try {
      const part = new Uint8Array(8);
      checkpoint.readIntoSync('w', part, 16);
      expect([...new Float32Array(part.buffer)]).toEqual([5, 6.5]);
      checkpoint.files[0]!.readIntoSync('w', part, 0);
      expect([...new Float32Array(part.buffer)]).toEqual([1, 2]);
      expect(() => checkpoint.readIntoSync('w', part, 20)).toThrow(/bytes 20\.\.28 are outside tensor "w"/);
      expect(() => checkpoint.readIntoSync('nope', part)).toThrow(/no tensor "nope"/);
    } finally {
      await checkpoint.close();
    }
  });

  it('reads a file written by the Python safetensors layout (offsets relative to the data region)', async () => {
    const data = new Uint8Array(new Float32Array([1, 2, 3]).buffer);
    const file = join(dir, 'py.safetensors');
    await writeFile(file, rawFile({ __metadata__: { format: 'pt' }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] }, a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, data));
    const st = await SafetensorsFile.open(file);
    expect([...st.tensors.keys()]).toEqual(['a', 'b']);
    expect([...(await st.readFloat32('b'))]).toEqual([3]);
    await st.close();
  });

  it('writes tied weights as one byte range with two names, and reads them back', async () => {
    const file = join(dir, 'tied.safetensors');
    await writeSafetensors(file, [
      { name: 'emb', dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) },
      { name: 'decoder', dtype: 'F32', shape: [2], tiedTo: 'emb' },
      { name: 'bias', dtype: 'F32', shape: [1], data: new Float32Array([3]) },
    ]);
    const st = await SafetensorsFile.open(file);
    expect(st.tensors.get('decoder')!.start).toBe(st.tensors.get('emb')!.start);
    expect([...(await st.readFloat32('decoder'))]).toEqual([1, 2]);
    await st.close();
  });

  it('streams chunked data sources and leaves no file when a source fails or has the wrong length', async () => {
    const file = join(dir, 'chunks.safetensors');
    await writeSafetensors(file, [
      {
        name: 'x',
        dtype: 'F32',
        shape: [4],
        data: async function* () {
          yield new Uint8Array(new Float32Array([1, 2]).buffer);
          yield new Uint8Array(new Float32Array([3, 4]).buffer);
        },
      },
    ]);
    const st = await SafetensorsFile.open(file);
    expect([...(await st.readFloat32('x'))]).toEqual([1, 2, 3, 4]);
    await st.close();
    const bad = join(dir, 'bad.safetensors');
    await expect(
      writeSafetensors(bad, [{ name: 'x', dtype: 'F32', shape: [4], data: () => Promise.reject(new Error('disk on fire')) }]),
    ).rejects.toThrow('disk on fire');
    await expect(writeSafetensors(bad, [{ name: 'x', dtype: 'F32', shape: [4], data: new Float32Array(3) }])).rejects.toThrow(/needs 16 bytes, its data has 12/);
    await expect(writeSafetensors(bad, [{ name: 'x', dtype: 'I32', shape: [1], data: new Float32Array(1) }])).rejects.toThrow(/float values given for dtype I32/);
    expect(await readdir(dir)).toEqual(['chunks.safetensors']);
  });
});

describe('SafetensorsFile.open rejects malformed files with a clear error', () => {
  const f32 = (n: number) => new Uint8Array(4 * n);
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['shorter than 8 bytes', () => new Uint8Array(5), /8-byte little-endian header length.*5 bytes/],
    ['header length beyond the file', () => { const b = rawFile({}, f32(0)); new DataView(b.buffer).setBigUint64(0, 1000n, true); return b; }, /header length of at most 2 bytes.*1000/],
    ['header not JSON', () => rawFile(null, f32(0), '{"a": '), /expected a JSON header, found invalid JSON/],
    ['header not an object', () => rawFile([1, 2], f32(0)), /expected a JSON object/],
    ['unknown dtype', () => rawFile({ a: { dtype: 'F128', shape: [1], data_offsets: [0, 4] } }, f32(1)), /header\["a"\]\.dtype: expected one of BOOL.*found "F128"/],
    ['negative dim', () => rawFile({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, f32(1)), /shape\[0\]: expected a non-negative integer, found number -1/],
    ['fractional dim', () => rawFile({ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, f32(1)), /shape\[0\]: expected a non-negative integer/],
    ['shape/offset mismatch', () => rawFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32(2)), /expected 12 bytes for F32 of shape \[3\], found 8 bytes/],
    ['offsets beyond the data region', () => rawFile({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32(2)), /offsets within the data region of 8 bytes/],
    ['end before begin', () => rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }, f32(2)), /begin <= end/],
    ['overlapping offsets', () => rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, f32(3)), /overlap/],
    ['a hole in the data region', () => rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, f32(3)), /without holes.*hole of 4 bytes/],
    ['trailing bytes', () => rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(2)), /4 unused trailing bytes/],
    ['metadata not string to string', () => rawFile({ __metadata__: { step: 3 }, a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(1)), /__metadata__"\]\["step"\]: expected a string, found number 3/],
    ['tied names with different shapes', () => rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1, 2], data_offsets: [0, 8] } }, f32(2)), /same bytes \(tied weights\)/],
    ['missing data_offsets', () => rawFile({ a: { dtype: 'F32', shape: [1] } }, f32(1)), /data_offsets: expected two non-negative integers/],
  ];
  for (const [what, build, message] of cases) {
    it(what, async () => {
      const error = await openError(build());
      expect(error.message).toMatch(message);
    });
  }
  it('a missing file', async () => {
    await expect(SafetensorsFile.open(join(dir, 'none.safetensors'))).rejects.toThrow(/none\.safetensors: expected a readable safetensors file, found ENOENT/);
  });
});

describe('sharded checkpoints', () => {
  const tensors = () => [
    { name: 'a', dtype: 'F32' as const, shape: [4], data: new Float32Array([1, 2, 3, 4]) },
    { name: 'b', dtype: 'F32' as const, shape: [4], data: new Float32Array([5, 6, 7, 8]) },
    { name: 'tied_b', dtype: 'F32' as const, shape: [4], tiedTo: 'b' },
    { name: 'c', dtype: 'F16' as const, shape: [2], data: new Float32Array([9, 10]) },
  ];

  it('writes shards no larger than maxShardBytes plus an HF index, and opens them as one checkpoint', async () => {
    const result = await writeShardedSafetensors(dir, tensors(), { maxShardBytes: 20, metadata: { format: 'pt' } });
    expect(result.files.map((f) => f.slice(dir.length + 1))).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    const index = JSON.parse(await readFile(result.indexFile!, 'utf8'));
    expect(index).toEqual({
      metadata: { total_size: 36 },
      weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors', c: 'model-00002-of-00002.safetensors', tied_b: 'model-00002-of-00002.safetensors' },
    });
    const ckpt = await openCheckpoint(dir);
    try {
      expect(ckpt.indexFile).toBe(result.indexFile);
      expect([...ckpt.tensors.keys()].sort()).toEqual(['a', 'b', 'c', 'tied_b']);
      expect([...(await ckpt.readFloat32('a'))]).toEqual([1, 2, 3, 4]);
      expect([...(await ckpt.readFloat32('tied_b'))]).toEqual([5, 6, 7, 8]);
      expect([...(await ckpt.readFloat64('c'))]).toEqual([9, 10]);
      expect(ckpt.metadata).toEqual({ format: 'pt' });
    } finally {
      await ckpt.close();
    }
  });

  it('writes a single model.safetensors when everything fits, and opens a folder or a file alike', async () => {
    const result = await writeShardedSafetensors(dir, tensors(), { maxShardBytes: 1 << 20 });
    expect(result.indexFile).toBeUndefined();
    for (const path of [dir, join(dir, 'model.safetensors')]) {
      const ckpt = await openCheckpoint(path);
      expect([...(await ckpt.readFloat32('b'))]).toEqual([5, 6, 7, 8]);
      await ckpt.close();
    }
  });

  it('rejects an index that does not match its shards, naming the index and the tensor', async () => {
    const result = await writeShardedSafetensors(dir, tensors(), { maxShardBytes: 20 });
    const index = JSON.parse(await readFile(result.indexFile!, 'utf8'));
    index.weight_map.a = 'model-00002-of-00002.safetensors';
    index.weight_map.ghost = 'model-00001-of-00002.safetensors';
    await writeFile(result.indexFile!, JSON.stringify(index));
    const error = (await openCheckpoint(dir).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(/model\.safetensors\.index\.json at weight_map\["a"\]: expected "model-00001-of-00002\.safetensors"/);
    expect(error.message).toMatch(/"ghost": expected the tensor that model\.safetensors\.index\.json maps to this shard, found no such tensor/);
  });

  it('rejects a folder without safetensors weights and removes its shards when a data source fails', async () => {
    await expect(openCheckpoint(dir)).rejects.toThrow(/expected a model folder with model\.safetensors/);
    const failing = [...tensors().slice(0, 2), { name: 'c', dtype: 'F32' as const, shape: [1], data: () => { throw new Error('boom'); } }];
    await expect(writeShardedSafetensors(dir, failing, { maxShardBytes: 10 })).rejects.toThrow('boom');
    expect(await readdir(dir)).toEqual([]);
    expect(existsSync(join(dir, 'model.safetensors.index.json'))).toBe(false);
  });
});
