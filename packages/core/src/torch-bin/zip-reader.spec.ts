import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { zipOf } from './torch-fixtures.testing.js';
import { entryRange, readRange, readZipDirectory } from './zip-reader.js';

let dir = '';
let cleanup: () => Promise<void> = async () => {};
beforeAll(async () => ({ dir, cleanup } = await tempDir('xlt-zip-')));
afterAll(() => cleanup());

const payload = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

/** Writes `bytes` and reads back every entry through the directory, as the torch reader does. */
async function readAll(name: string, bytes: Uint8Array): Promise<Map<string, Uint8Array>> {
  const file = join(dir, name);
  await writeFile(file, bytes);
  const handle = await open(file, 'r');
  try {
    const directory = await readZipDirectory(handle, bytes.byteLength, file);
    const out = new Map<string, Uint8Array>();
    for (const entry of directory.entries.values()) {
      const { start, end } = await entryRange(handle, directory, entry, file);
      out.set(entry.name, await readRange(handle, start, end - start, file));
    }
    return out;
  } finally {
    await handle.close();
  }
}

describe('zip reader', () => {
  const entries = [
    { name: 'a/data.pkl', data: payload(100, 1) },
    { name: 'a/data/0', data: payload(333, 2), localPadding: 40 },
    { name: 'a/version', data: payload(2, 3) },
  ];

  it.each([false, true])('reads stored entries through the central directory (zip64 %s), past local-header padding', async (zip64) => {
    const read = await readAll(`ok-${zip64}.zip`, zipOf(entries, { zip64 }));
    expect([...read.keys()]).toEqual(entries.map((e) => e.name));
    for (const e of entries) expect(Buffer.from(read.get(e.name)!).equals(Buffer.from(e.data))).toBe(true);
  });

  it('refuses a truncated zip, naming the file, wherever it was cut', async () => {
    const whole = zipOf(entries);
    for (const keep of [0, 10, Math.floor(whole.byteLength / 2), whole.byteLength - 1]) {
      const error = await readAll(`cut-${keep}.zip`, whole.subarray(0, keep)).catch((e: unknown) => e);
      expect(error, `cut at ${keep}`).toBeInstanceOf(InputError);
      expect((error as Error).message).toContain(join(dir, `cut-${keep}.zip`));
      expect((error as Error).message).toMatch(/end-of-central-directory|truncated/);
    }
  });

  it('refuses a zip whose stored data runs into the central directory', async () => {
    const bytes = zipOf([{ name: 'x', data: payload(50, 4) }]);
    // Grow the recorded sizes of the only entry (central directory at the end) beyond its data.
    const dv = new DataView(bytes.buffer);
    const central = bytes.byteLength - 22 - (46 + 1);
    dv.setUint32(central + 20, 5000, true);
    dv.setUint32(central + 24, 5000, true);
    const error = await readAll('overrun.zip', bytes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toContain('zip entry "x"');
    expect((error as Error).message).toContain('truncated or corrupt');
  });

  it('refuses a compressed entry with a clear error naming the entry and the method', async () => {
    const error = await readAll('deflated.zip', zipOf([{ name: 'a/data.pkl', data: payload(500, 5), deflate: true }])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    const message = (error as Error).message;
    expect(message).toContain('zip entry "a/data.pkl"');
    expect(message).toContain('compression method 8 (deflate)');
    expect(message).toContain('stored (uncompressed)');
  });
});
