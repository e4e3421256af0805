import type { FileHandle } from 'node:fs/promises';
import { InputError, DTYPE_SIZES } from '@xlt/plugin-api';
import { describePickled, TruncatedPickleError, unpickle } from './restricted-unpickler.js';
import { stateDictTensors, storageLoader, torchGlobals, type StoredStateDict, type TorchStorage } from './torch-state-dict.js';
import { readRange } from './zip-reader.js';

/** The number `torch.save` writes first in its legacy (pre-1.6) format. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

/**
 * Reads the state dict of a legacy `torch.save` file (PyTorch < 1.6, or `_use_new_zipfile_serialization=False`;
 * many older hub checkpoints): five pickles (magic number, protocol 1001, system info, the state dict, the storage
 * keys), then each storage as an int64 element count and its raw bytes, in key order.
 */
export async function readLegacyStateDict(handle: FileHandle, size: number, file: string): Promise<StoredStateDict> {
  // The pickles are small and come first, but their length is not stored: read a window, widen it if too short.
  for (let window = Math.min(size, 1 << 20); ; window = Math.min(size, window * 8)) {
    const bytes = await readRange(handle, 0, window, file);
    let parsed: ReturnType<typeof parsePickles>;
    try {
      parsed = parsePickles(bytes, file);
    } catch (error) {
      if (error instanceof TruncatedPickleError && window < size) continue;
      throw error;
    }
    return { tensors: parsed.tensors, storageStarts: await locateStorages(handle, size, file, parsed.keys, parsed.storages, parsed.end) };
  }
}

function parsePickles(bytes: Uint8Array, file: string) {
  const none = new Map();
  const magic = unpickle(bytes, { file, part: 'legacy header', globals: none });
  if (magic.value !== LEGACY_MAGIC) {
    throw new InputError([{ file, path: 'byte 0', expected: 'the magic number of a torch.save file', found: describePickled(magic.value) }]);
  }
  const protocol = unpickle(bytes, { file, part: 'legacy header', globals: none, start: magic.end });
  if (protocol.value !== LEGACY_PROTOCOL) {
    throw new InputError([{ file, path: `byte ${magic.end}`, expected: `torch.save protocol ${LEGACY_PROTOCOL}`, found: describePickled(protocol.value) }]);
  }
  const info = unpickle(bytes, { file, part: 'legacy system info', globals: none, start: protocol.end });
  if (!(info.value instanceof Map) || info.value.get('little_endian') !== true) {
    throw new InputError([{ file, path: `byte ${protocol.end}`, expected: 'system info with little_endian True (xlt reads little-endian data)', found: describePickled(info.value instanceof Map ? info.value.get('little_endian') : info.value) }]);
  }
  const storages = new Map<string, TorchStorage>();
  const part = 'legacy state dict pickle';
  const main = unpickle(bytes, { file, part, globals: torchGlobals(), persistentLoad: storageLoader(storages, true), start: info.end });
  const tensors = stateDictTensors(main.value, file, part);
  const keys = unpickle(bytes, { file, part: 'legacy storage keys', globals: none, start: main.end });
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string')) {
    throw new InputError([{ file, path: `byte ${main.end}`, expected: 'the list of storage keys', found: describePickled(keys.value) }]);
  }
  return { tensors, storages, keys: keys.value as string[], end: keys.end };
}

async function locateStorages(handle: FileHandle, size: number, file: string, keys: readonly string[], storages: ReadonlyMap<string, TorchStorage>, end: number) {
  const starts = new Map<string, number>();
  let at = end;
  for (const key of keys) {
    const storage = storages.get(key);
    if (!storage) throw new InputError([{ file, path: `storage keys`, expected: 'only keys of storages the state dict uses', found: JSON.stringify(key) }]);
    const count = new DataView((await readRange(handle, at, 8, file)).buffer).getBigInt64(0, true);
    if (count !== BigInt(storage.numel)) {
      throw new InputError([{ file, path: `byte ${at} (storage ${JSON.stringify(key)})`, expected: `the element count ${storage.numel} the state dict gives`, found: String(count) }]);
    }
    starts.set(key, at + 8);
    at += 8 + storage.numel * DTYPE_SIZES[storage.dtype];
    if (at > size) {
      throw new InputError([{ file, path: `storage ${JSON.stringify(key)}`, expected: `data ending by byte ${size} (the end of the file)`, found: `data ending at byte ${at} (truncated)` }]);
    }
  }
  const missing = [...storages.keys()].filter((k) => !starts.has(k));
  if (missing.length) throw new InputError([{ file, path: 'storage keys', expected: 'every storage the state dict uses', found: `no data for ${missing.slice(0, 5).join(', ')}` }]);
  return starts;
}
