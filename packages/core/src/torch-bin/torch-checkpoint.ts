import { open, readFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  describeFound,
  InputError,
  type InputIssue,
  XltError,
  DTYPE_SIZES,
  elementCount,
  isFloatDtype,
  type FloatDtype,
  type StoredTensor,
  type TensorCheckpoint,
  decodeFloat32,
  decodeFloat64,
} from '@xlt/plugin-api';
import { readLegacyStateDict } from './torch-legacy-format.js';
import { readZipStateDict } from './torch-zip-format.js';
import { readRange } from './zip-reader.js';

/** File name of a PyTorch checkpoint inside an HF model folder. */
export const PYTORCH_WEIGHTS_FILE = 'pytorch_model.bin';
/** File name of the index of a sharded PyTorch checkpoint. */
export const PYTORCH_INDEX_FILE = 'pytorch_model.bin.index.json';

/** A tensor of a PyTorch checkpoint: a strided view of a storage whose element 0 is at `storageStart` in `file`. */
export interface TorchTensor extends StoredTensor {
  readonly storageStart: number;
  /** Offset of the tensor's first element in its storage, in elements. */
  readonly offset: number;
  /** Strides in elements (tensors saved as views need not be contiguous). */
  readonly stride: readonly number[];
}

class TorchCheckpoint implements TensorCheckpoint {
  constructor(
    readonly path: string,
    readonly tensors: ReadonlyMap<string, TorchTensor>,
    private readonly handles: ReadonlyMap<string, FileHandle>,
  ) {}

  async readBytes(name: string): Promise<Uint8Array> {
    const t = this.tensors.get(name);
    if (!t) throw new XltError(`${this.path}: no tensor ${JSON.stringify(name)} (it has ${this.tensors.size} tensors)`);
    const size = DTYPE_SIZES[t.dtype];
    const n = elementCount(t.shape);
    if (n === 0) return new Uint8Array(0);
    const last = t.shape.reduce((at, d, i) => at + (d - 1) * t.stride[i]!, t.offset);
    const span = await readRange(this.handles.get(t.file)!, t.storageStart + t.offset * size, (last - t.offset + 1) * size, t.file);
    if (span.byteLength === n * size && isRowMajor(t.shape, t.stride)) return span;
    // A view (a transpose saved without .contiguous()): gather its elements in row-major order.
    const out = new Uint8Array(n * size);
    const index = new Array<number>(t.shape.length).fill(0);
    let from = 0;
    for (let i = 0; i < n; i++) {
      out.set(span.subarray(from * size, from * size + size), i * size);
      for (let d = t.shape.length - 1; d >= 0; d--) {
        from += t.stride[d]!;
        if (++index[d]! < t.shape[d]!) break;
        from -= t.stride[d]! * t.shape[d]!;
        index[d] = 0;
      }
    }
    return out;
  }

  async readFloat32(name: string): Promise<Float32Array> {
    return decodeFloat32(await this.readBytes(name), this.floatDtype(name));
  }

  async readFloat64(name: string): Promise<Float64Array> {
    return decodeFloat64(await this.readBytes(name), this.floatDtype(name));
  }

  async close(): Promise<void> {
    await Promise.all([...this.handles.values()].map((h) => h.close()));
  }

  private floatDtype(name: string): FloatDtype {
    const t = this.tensors.get(name)!;
    if (!isFloatDtype(t.dtype)) throw new InputError([{ file: t.file, path: name, expected: 'a float tensor (F16, BF16, F32, F64)', found: t.dtype }]);
    return t.dtype;
  }
}

function isRowMajor(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d]!;
  }
  return true;
}

/** Reads one `.bin` file's layout; the handle stays open for tensor reads. */
async function readTorchFile(file: string): Promise<{ handle: FileHandle; tensors: Map<string, TorchTensor> }> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw new InputError([{ file, expected: 'a readable PyTorch checkpoint (torch.save)', found: (error as NodeJS.ErrnoException).code ?? String(error) }]);
  }
  try {
    const { size } = await handle.stat();
    const head = await readRange(handle, 0, Math.min(size, 4), file);
    let layout;
    if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) layout = await readZipStateDict(handle, size, file);
    else if (head[0] === 0x80) layout = await readLegacyStateDict(handle, size, file);
    else {
      const found = size === 0 ? 'an empty file' : `bytes ${[...head].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`;
      throw new InputError([{ file, path: 'byte 0', expected: 'a torch.save file (a zip, "PK", or the legacy pickle format)', found }]);
    }
    const tensors = new Map<string, TorchTensor>();
    for (const [name, view] of layout.tensors) {
      tensors.set(name, { name, dtype: view.storage.dtype, shape: view.shape, file, storageStart: layout.storageStarts.get(view.storage.key)!, offset: view.offset, stride: view.stride });
    }
    return { handle, tensors };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Opens a PyTorch checkpoint written by `torch.save(state_dict, path)`, in the zip format (PyTorch >= 1.6) or the
 * legacy one. The pickle is read by a restricted unpickler that rebuilds only tensors and dicts and runs no code;
 * tensor bytes are read on demand. Tied weights (one storage, two names) and strided views are served as
 * ordinary row-major tensors.
 */
export async function openTorchCheckpoint(file: string): Promise<TensorCheckpoint> {
  const { handle, tensors } = await readTorchFile(file);
  return new TorchCheckpoint(file, tensors, new Map([[file, handle]]));
}

/**
 * Opens a sharded PyTorch checkpoint from its index (`pytorch_model.bin.index.json`, as `save_pretrained` writes
 * with `safe_serialization=False`): every mapped tensor must be in the shard the index names, and no shard may
 * hold a tensor the index does not map.
 */
export async function openTorchSharded(indexFile: string): Promise<TensorCheckpoint> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(indexFile, 'utf8'));
  } catch (error) {
    throw new InputError([{ file: indexFile, expected: 'a JSON sharded-checkpoint index', found: (error as NodeJS.ErrnoException).code ?? `invalid JSON (${(error as Error).message})` }]);
  }
  const weightMap = (json as { weight_map?: unknown } | null)?.weight_map;
  if (weightMap === null || typeof weightMap !== 'object' || Array.isArray(weightMap)) {
    throw new InputError([{ file: indexFile, path: 'weight_map', expected: 'an object mapping tensor names to shard file names', found: describeFound(weightMap) }]);
  }
  const map = weightMap as Record<string, unknown>;
  const issues: InputIssue[] = [];
  for (const [name, shard] of Object.entries(map)) {
    if (typeof shard !== 'string' || shard === '' || shard.includes('/') || shard.includes('\\')) {
      issues.push({ file: indexFile, path: `weight_map[${JSON.stringify(name)}]`, expected: 'a shard file name in the same folder', found: describeFound(shard) });
    }
  }
  if (issues.length) throw new InputError(issues);
  const handles = new Map<string, FileHandle>();
  const tensors = new Map<string, TorchTensor>();
  try {
    for (const shard of [...new Set(Object.values(map) as string[])].sort()) {
      const file = join(dirname(indexFile), shard);
      const read = await readTorchFile(file);
      handles.set(file, read.handle);
      for (const [name, t] of read.tensors) {
        if (map[name] === shard) tensors.set(name, t);
        else issues.push({ file: indexFile, path: `weight_map[${JSON.stringify(name)}]`, expected: `${JSON.stringify(shard)}, the shard that holds the tensor`, found: describeFound(map[name]) });
      }
    }
    for (const [name, shard] of Object.entries(map)) {
      if (!tensors.has(name) && !issues.some((i) => i.path === `weight_map[${JSON.stringify(name)}]`)) {
        issues.push({ file: join(dirname(indexFile), shard as string), path: JSON.stringify(name), expected: `the tensor that ${basename(indexFile)} maps to this shard`, found: 'no such tensor' });
      }
    }
    if (issues.length) throw new InputError(issues, `${indexFile}: the index does not match its shards`);
    return new TorchCheckpoint(indexFile, tensors, handles);
  } catch (error) {
    await Promise.all([...handles.values()].map((h) => h.close()));
    throw error;
  }
}
