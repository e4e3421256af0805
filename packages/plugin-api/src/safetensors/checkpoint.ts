import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InputError, XltError, describeFound, type InputIssue } from '../errors.js';
import { isFloatDtype, type FloatDtype, type SafetensorsDtype } from './dtype.js';
import { SafetensorsFile } from './file.js';
import { decodeFloat32, decodeFloat64 } from './float-convert.js';
import type { TensorInfo } from './header.js';

/** File name of an HF single-file checkpoint inside a model folder. */
export const SAFETENSORS_FILE = 'model.safetensors';
/** File name of the index of an HF sharded checkpoint. */
export const SAFETENSORS_INDEX_FILE = 'model.safetensors.index.json';

/** A tensor of a checkpoint and the file that holds it. */
export interface CheckpointTensor extends TensorInfo {
  /** The `.safetensors` file (shard) the offsets refer to. */
  readonly file: string;
}

/** What every checkpoint format can say of a tensor: name, dtype, shape and the file that holds it. */
export interface StoredTensor {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** The file (shard) that holds the tensor. */
  readonly file: string;
}

/**
 * The read side shared by checkpoint formats (safetensors, PyTorch `pytorch_model.bin`): the tensors by name,
 * their values, and closing. Model loading needs only this; streaming and averaging use {@link SafetensorsCheckpoint}.
 */
export interface TensorCheckpoint {
  /** What was opened: the file, or the folder. */
  readonly path: string;
  /** Every tensor by name, in stored order. */
  readonly tensors: ReadonlyMap<string, StoredTensor>;
  /** A tensor's elements in row-major order, as little-endian bytes of its dtype. */
  readBytes(name: string): Promise<Uint8Array>;
  /** A float tensor (F16, BF16, F32 or F64) as float32. */
  readFloat32(name: string): Promise<Float32Array>;
  /** A float tensor (F16, BF16, F32 or F64) as float64. */
  readFloat64(name: string): Promise<Float64Array>;
  close(): Promise<void>;
}

/** One view over a checkpoint: a single `.safetensors` file or an HF sharded folder. */
export interface SafetensorsCheckpoint extends TensorCheckpoint {
  /** What was opened: the file, or the folder. */
  readonly path: string;
  /** The model folder when `path` was a folder (HF layout), else undefined. */
  readonly folder?: string;
  /** The index file of a sharded checkpoint, else undefined. */
  readonly indexFile?: string;
  /** The `.safetensors` files, in shard order. */
  readonly files: readonly SafetensorsFile[];
  /** Every tensor by name, across shards, in file then offset order. */
  readonly tensors: ReadonlyMap<string, CheckpointTensor>;
  /** `__metadata__` of the (first) safetensors file. */
  readonly metadata: Record<string, string>;
  /** `metadata` of the index (e.g. `total_size`), for sharded checkpoints. */
  readonly indexMetadata?: Record<string, unknown>;
  /** The open file holding a tensor. */
  fileOf(name: string): SafetensorsFile;
  readBytes(name: string): Promise<Uint8Array>;
  readInto(name: string, target: Uint8Array, offset?: number): Promise<void>;
  /** `readInto`, synchronously (small page-cache reads in a streaming loop; see {@link SafetensorsFile.readIntoSync}). */
  readIntoSync(name: string, target: Uint8Array, offset?: number): void;
  readFloat32(name: string): Promise<Float32Array>;
  readFloat64(name: string): Promise<Float64Array>;
  close(): Promise<void>;
}

class CheckpointView implements SafetensorsCheckpoint {
  readonly #byName = new Map<string, SafetensorsFile>();
  constructor(
    readonly path: string,
    readonly files: readonly SafetensorsFile[],
    readonly tensors: ReadonlyMap<string, CheckpointTensor>,
    readonly folder?: string,
    readonly indexFile?: string,
    readonly indexMetadata?: Record<string, unknown>,
  ) {
    const byPath = new Map(files.map((f) => [f.path, f]));
    for (const t of tensors.values()) this.#byName.set(t.name, byPath.get(t.file)!);
  }
  get metadata(): Record<string, string> {
    return this.files[0]?.metadata ?? {};
  }
  fileOf(name: string): SafetensorsFile {
    const file = this.#byName.get(name);
    if (!file) {
      throw new XltError(`${this.path}: no tensor ${JSON.stringify(name)} (it has ${this.tensors.size} tensors)`);
    }
    return file;
  }
  readBytes(name: string): Promise<Uint8Array> {
    return this.fileOf(name).readBytes(name);
  }
  readInto(name: string, target: Uint8Array, offset = 0): Promise<void> {
    return this.fileOf(name).readInto(name, target, offset);
  }
  readIntoSync(name: string, target: Uint8Array, offset = 0): void {
    this.fileOf(name).readIntoSync(name, target, offset);
  }
  async readFloat32(name: string): Promise<Float32Array> {
    return decodeFloat32(await this.readBytes(name), this.floatDtype(name));
  }
  async readFloat64(name: string): Promise<Float64Array> {
    return decodeFloat64(await this.readBytes(name), this.floatDtype(name));
  }
  async close(): Promise<void> {
    await Promise.all(this.files.map((f) => f.close()));
  }
  private floatDtype(name: string): FloatDtype {
    const t = this.fileOf(name).info(name);
    if (!isFloatDtype(t.dtype)) {
      throw new InputError([{ file: this.fileOf(name).path, path: `header[${JSON.stringify(name)}].dtype`, expected: 'a float dtype (F16, BF16, F32, F64)', found: t.dtype }]);
    }
    return t.dtype;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (error) {
    throw new InputError([{ file: path, expected: 'a safetensors file or a model folder', found: (error as NodeJS.ErrnoException).code ?? String(error) }]);
  }
}

/**
 * Opens a checkpoint for streaming reads: a `.safetensors` file, a sharded index file
 * (`*.safetensors.index.json`), or an HF model folder holding `model.safetensors` or
 * `model.safetensors.index.json` with its shards. A sharded index is validated against its shards: every
 * mapped tensor must be in the file the index names, and no shard may hold a tensor the index does not map.
 */
export async function openCheckpoint(pathOrFolder: string): Promise<SafetensorsCheckpoint> {
  if (await isDirectory(pathOrFolder)) {
    const entries = await readdir(pathOrFolder);
    if (entries.includes(SAFETENSORS_INDEX_FILE)) return openSharded(join(pathOrFolder, SAFETENSORS_INDEX_FILE), pathOrFolder, pathOrFolder);
    if (entries.includes(SAFETENSORS_FILE)) return openSingle(join(pathOrFolder, SAFETENSORS_FILE), pathOrFolder, pathOrFolder);
    const found = entries.filter((e) => e.endsWith('.safetensors') || e.endsWith('.bin')).slice(0, 5);
    throw new InputError([{ file: pathOrFolder, expected: `a model folder with ${SAFETENSORS_FILE} or ${SAFETENSORS_INDEX_FILE}`, found: found.length ? found.join(', ') : 'neither' }]);
  }
  if (pathOrFolder.endsWith('.index.json')) return openSharded(pathOrFolder, pathOrFolder, undefined);
  return openSingle(pathOrFolder, pathOrFolder, undefined);
}

async function openSingle(file: string, path: string, folder: string | undefined): Promise<SafetensorsCheckpoint> {
  const st = await SafetensorsFile.open(file);
  const tensors = new Map<string, CheckpointTensor>();
  for (const t of st.tensors.values()) tensors.set(t.name, { ...t, file: st.path });
  return new CheckpointView(path, [st], tensors, folder);
}

async function openSharded(indexFile: string, path: string, folder: string | undefined): Promise<SafetensorsCheckpoint> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(indexFile, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError([{ file: indexFile, expected: 'a JSON sharded-checkpoint index', found: code ?? `invalid JSON (${(error as Error).message})` }]);
  }
  const weightMap = (json as { weight_map?: unknown } | null)?.weight_map;
  if (json === null || typeof json !== 'object' || Array.isArray(json) || weightMap === null || typeof weightMap !== 'object' || Array.isArray(weightMap)) {
    throw new InputError([{ file: indexFile, path: 'weight_map', expected: 'an object mapping tensor names to shard file names', found: describeFound(weightMap) }]);
  }
  const issues: InputIssue[] = [];
  const shardNames: string[] = [];
  for (const [name, shard] of Object.entries(weightMap as Record<string, unknown>)) {
    if (typeof shard !== 'string' || shard === '' || shard.includes('/') || shard.includes('\\')) {
      issues.push({ file: indexFile, path: `weight_map[${JSON.stringify(name)}]`, expected: 'a shard file name in the same folder', found: describeFound(shard) });
    } else if (!shardNames.includes(shard)) shardNames.push(shard);
  }
  if (issues.length) throw new InputError(issues);
  const dir = dirname(indexFile);
  const files: SafetensorsFile[] = [];
  try {
    for (const shard of shardNames.sort()) files.push(await SafetensorsFile.open(join(dir, shard)));
    const tensors = new Map<string, CheckpointTensor>();
    for (const f of files) {
      for (const t of f.tensors.values()) {
        const mapped = (weightMap as Record<string, string>)[t.name];
        if (mapped !== basename(f.path)) {
          issues.push({
            file: indexFile,
            path: `weight_map[${JSON.stringify(t.name)}]`,
            expected: `${JSON.stringify(basename(f.path))}, the shard that holds the tensor`,
            found: describeFound(mapped),
          });
        } else tensors.set(t.name, { ...t, file: f.path });
      }
    }
    for (const [name, shard] of Object.entries(weightMap as Record<string, string>)) {
      if (!tensors.has(name) && !issues.some((i) => i.path === `weight_map[${JSON.stringify(name)}]`)) {
        issues.push({ file: join(dir, shard), path: JSON.stringify(name), expected: `the tensor that ${basename(indexFile)} maps to this shard`, found: 'no such tensor' });
      }
    }
    if (issues.length) throw new InputError(issues, `${indexFile}: the index does not match its shards`);
    const metadata = (json as { metadata?: unknown }).metadata;
    const indexMetadata = metadata && typeof metadata === 'object' && !Array.isArray(metadata) ? (metadata as Record<string, unknown>) : undefined;
    return new CheckpointView(path, files, tensors, folder, indexFile, indexMetadata);
  } catch (error) {
    await Promise.all(files.map((f) => f.close()));
    throw error;
  }
}
