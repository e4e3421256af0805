import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, encodeFloats } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { openTorchCheckpoint, openTorchSharded } from './torch-checkpoint.js';
import { stateDictPickle, torchZip, type FixtureTensor } from './torch-fixtures.testing.js';

let dir = '';
let cleanup: () => Promise<void> = async () => {};
beforeAll(async () => ({ dir, cleanup } = await tempDir('xlt-torch-bin-')));
afterAll(() => cleanup());

const values = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * 3);
const f32 = values(6, 1);
const f16 = values(12, 2);
const tensors: FixtureTensor[] = [
  { name: 'w', key: '0', type: 'FloatStorage', numel: 6, offset: 0, shape: [2, 3], stride: [3, 1] },
  { name: 'tied', key: '0', type: 'FloatStorage', numel: 6, offset: 0, shape: [2, 3], stride: [3, 1] },
  // A transposed view starting at element 2 of its storage: element (i, j) is storage[2 + i + 3j].
  { name: 'view', key: '1', type: 'HalfStorage', numel: 12, offset: 2, shape: [3, 2], stride: [1, 3] },
];
const storages = new Map([
  ['0', encodeFloats(f32, 'F32')],
  ['1', encodeFloats(f16, 'F16')],
]);

async function write(name: string, bytes: Uint8Array): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, bytes);
  return file;
}

async function refusal(open: Promise<unknown>): Promise<string> {
  const error = await open.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(InputError);
  return (error as Error).message;
}

describe('PyTorch checkpoint (torch.save zip layout)', () => {
  it.each([false, true])('serves tied tensors and strided views in row-major order (zip64 %s)', async (zip64) => {
    const checkpoint = await openTorchCheckpoint(await write(`ok-${zip64}.bin`, torchZip(stateDictPickle(tensors), storages, { zip64 })));
    try {
      expect([...checkpoint.tensors.values()].map((t) => [t.name, t.dtype, t.shape])).toEqual([['w', 'F32', [2, 3]], ['tied', 'F32', [2, 3]], ['view', 'F16', [3, 2]]]);
      const w = await checkpoint.readFloat32('w');
      expect(Array.from(w)).toEqual(f32.map(Math.fround));
      expect(Array.from(await checkpoint.readFloat32('tied'))).toEqual(Array.from(w));
      const half = await checkpoint.readFloat64('view');
      const expected: number[] = [];
      for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) expected.push(f16[2 + i + 3 * j]!);
      // F16 keeps 11 significant bits: |x| < 4 rounds by at most 2^-9.
      for (let k = 0; k < 6; k++) expect(Math.abs(half[k]! - expected[k]!)).toBeLessThanOrEqual(2 ** -9);
      expect((await checkpoint.readBytes('view')).byteLength).toBe(12);
    } finally {
      await checkpoint.close();
    }
  });

  it('refuses a data.pkl that calls os.system, naming the file, and runs nothing', async () => {
    const evil = new TextEncoder().encode(`cos\nsystem\n(S'echo pwned'\ntR.`);
    const file = await write('evil.bin', torchZip(evil, new Map()));
    const message = await refusal(openTorchCheckpoint(file));
    expect(message).toContain(file);
    expect(message).toContain('archive/data.pkl, pickle byte 0');
    expect(message).toContain('GLOBAL os.system (refused');
  });

  it('refuses a compressed data.pkl', async () => {
    const message = await refusal(openTorchCheckpoint(await write('deflated.bin', torchZip(stateDictPickle(tensors), storages, { deflatePickle: true }))));
    expect(message).toContain('zip entry "archive/data.pkl"');
    expect(message).toContain('compression method 8 (deflate)');
  });

  it('refuses a truncated file', async () => {
    const whole = torchZip(stateDictPickle(tensors), storages);
    const message = await refusal(openTorchCheckpoint(await write('cut.bin', whole.subarray(0, whole.byteLength - 30))));
    expect(message).toContain('cut.bin');
    expect(message).toContain('end-of-central-directory');
  });

  it('refuses a missing storage and a storage of the wrong size', async () => {
    const missing = await refusal(openTorchCheckpoint(await write('missing.bin', torchZip(stateDictPickle(tensors), new Map([['0', storages.get('0')!]])))));
    expect(missing).toContain('zip entry "archive/data/1": expected the data of storage "1" (24 bytes), found no such entry');
    const short = await refusal(openTorchCheckpoint(await write('short.bin', torchZip(stateDictPickle(tensors), new Map([...storages, ['1', new Uint8Array(10)]])))));
    expect(short).toContain('zip entry "archive/data/1": expected 24 bytes (12 elements of F16), found 10 bytes');
  });

  it('reads a sharded index, and refuses one that maps a tensor to the wrong shard', async () => {
    await write('shard-a.bin', torchZip(stateDictPickle(tensors.slice(0, 1)), new Map([['0', storages.get('0')!]])));
    await write('shard-b.bin', torchZip(stateDictPickle(tensors.slice(2)), new Map([['1', storages.get('1')!]])));
    const good = await write('good.index.json', new TextEncoder().encode(JSON.stringify({ weight_map: { w: 'shard-a.bin', view: 'shard-b.bin' } })));
    const sharded = await openTorchSharded(good);
    expect([...sharded.tensors.keys()]).toEqual(['w', 'view']);
    expect(Array.from(await sharded.readFloat32('w'))).toEqual(f32.map(Math.fround));
    await sharded.close();
    const bad = await write('bad.index.json', new TextEncoder().encode(JSON.stringify({ weight_map: { w: 'shard-b.bin', view: 'shard-b.bin' } })));
    expect(await refusal(openTorchSharded(bad))).toContain(`${join(dir, 'shard-b.bin')} at "w": expected the tensor that bad.index.json maps to this shard, found no such tensor`);
    // A shard holding a tensor the index maps elsewhere.
    const stray = await write('stray.index.json', new TextEncoder().encode(JSON.stringify({ weight_map: { w: 'shard-b.bin', view: 'shard-a.bin' } })));
    expect(await refusal(openTorchSharded(stray))).toContain('weight_map["w"]: expected "shard-a.bin", the shard that holds the tensor, found "shard-b.bin"');
  });
});
