import type { FileHandle } from 'node:fs/promises';
import { InputError, DTYPE_SIZES } from '@xlt/plugin-api';
import { unpickle } from './restricted-unpickler.js';
import { stateDictTensors, storageLoader, torchGlobals, type StoredStateDict, type TorchStorage } from './torch-state-dict.js';
import { entryRange, readRange, readZipDirectory } from './zip-reader.js';

/**
 * Reads the state dict of a `torch.save` zip file (PyTorch >= 1.6): `<archive>/data.pkl` is unpickled with the
 * restricted unpickler, and each storage it names is the stored entry `<archive>/data/<key>`, whose bytes are
 * read later, on demand.
 */
export async function readZipStateDict(handle: FileHandle, size: number, file: string): Promise<StoredStateDict> {
  const directory = await readZipDirectory(handle, size, file);
  const pickles = [...directory.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length !== 1) {
    const some = [...directory.entries.keys()].slice(0, 5).join(', ');
    throw new InputError([{ file, expected: 'one <archive>/data.pkl entry (the zip layout of torch.save)', found: pickles.length ? pickles.join(', ') : `none (entries: ${some || 'none'})` }]);
  }
  const part = pickles[0]!;
  const prefix = part.slice(0, -'data.pkl'.length);
  const byteorder = directory.entries.get(`${prefix}byteorder`);
  if (byteorder) {
    const range = await entryRange(handle, directory, byteorder, file);
    const order = new TextDecoder().decode(await readRange(handle, range.start, range.end - range.start, file));
    if (order !== 'little') throw new InputError([{ file, path: byteorder.name, expected: '"little" (xlt reads little-endian tensor data)', found: JSON.stringify(order) }]);
  }
  const range = await entryRange(handle, directory, directory.entries.get(part)!, file);
  const bytes = await readRange(handle, range.start, range.end - range.start, file);
  const storages = new Map<string, TorchStorage>();
  const { value } = unpickle(bytes, { file, part, globals: torchGlobals(), persistentLoad: storageLoader(storages, false) });
  const tensors = stateDictTensors(value, file, part);
  const storageStarts = new Map<string, number>();
  for (const storage of storages.values()) {
    const name = `${prefix}data/${storage.key}`;
    const entry = directory.entries.get(name);
    const bytesNeeded = storage.numel * DTYPE_SIZES[storage.dtype];
    if (!entry) throw new InputError([{ file, path: `zip entry ${JSON.stringify(name)}`, expected: `the data of storage ${JSON.stringify(storage.key)} (${bytesNeeded} bytes)`, found: 'no such entry' }]);
    const { start, end } = await entryRange(handle, directory, entry, file);
    if (end - start !== bytesNeeded) {
      throw new InputError([{ file, path: `zip entry ${JSON.stringify(name)}`, expected: `${bytesNeeded} bytes (${storage.numel} elements of ${storage.dtype})`, found: `${end - start} bytes` }]);
    }
    storageStarts.set(storage.key, start);
  }
  return { tensors, storageStarts };
}
