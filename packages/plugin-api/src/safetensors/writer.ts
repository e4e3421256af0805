import { open, type FileHandle } from 'node:fs/promises';
import { XltError } from '../errors.js';
import { withAtomicFile } from '../util/files.js';
import { DTYPE_SIZES, elementCount, isFloatDtype, isSafetensorsDtype, type SafetensorsDtype } from './dtype.js';
import { encodeFloats } from './float-convert.js';
import { encodeHeader, type HeaderEntry } from './header.js';

/**
 * Tensor values. A `Uint8Array` is always the raw little-endian bytes of the dtype; `Float32Array` and
 * `Float64Array` are converted to any float dtype (rounding to nearest, ties to even); other typed arrays must
 * match the dtype (`Uint16Array` also carries raw F16/BF16 bits).
 */
export type TensorData =
  | Uint8Array
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/**
 * The values of a tensor to write: the data itself, or a function called when the writer reaches the tensor
 * (so at most one tensor is in memory), returning the data or an (async) iterable of raw byte chunks.
 */
export type TensorDataSource =
  | TensorData
  | (() => TensorData | Promise<TensorData> | AsyncIterable<Uint8Array> | Iterable<Uint8Array>);

/** One tensor to write. */
export interface TensorToWrite {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** The values; ignored (and may be omitted) when {@link tiedTo} is set. */
  readonly data?: TensorDataSource;
  /**
   * Name of another tensor of the same file whose bytes this one shares (tied weights, e.g. decoder and input
   * embeddings): both names point at one byte range, as in the input checkpoint. Dtype and shape must match.
   * Note that the strict Python `safetensors` loader refuses such files; write a copy instead for it.
   */
  readonly tiedTo?: string;
}

/** Byte length of a tensor. */
export function tensorByteLength(t: Pick<TensorToWrite, 'dtype' | 'shape'>): number {
  return elementCount(t.shape) * DTYPE_SIZES[t.dtype];
}

const MATCHING: ReadonlyArray<[new (...args: never[]) => ArrayBufferView, readonly SafetensorsDtype[]]> = [
  [Int8Array, ['I8']],
  [Int16Array, ['I16']],
  [Uint16Array, ['U16', 'F16', 'BF16']],
  [Int32Array, ['I32']],
  [Uint32Array, ['U32']],
  [BigInt64Array, ['I64']],
  [BigUint64Array, ['U64']],
];

/** The raw bytes of `data` as `dtype`, converting floats when needed. */
export function tensorBytes(data: TensorData, dtype: SafetensorsDtype, name: string): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof Float32Array || data instanceof Float64Array) {
    if (!isFloatDtype(dtype)) throw new XltError(`Tensor ${JSON.stringify(name)}: float values given for dtype ${dtype}; pass a matching typed array or raw bytes`);
    if ((dtype === 'F32' && data instanceof Float32Array) || (dtype === 'F64' && data instanceof Float64Array)) {
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    }
    return encodeFloats(data, dtype);
  }
  for (const [ctor, dtypes] of MATCHING) {
    if (data instanceof ctor) {
      if (!dtypes.includes(dtype)) break;
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    }
  }
  throw new XltError(`Tensor ${JSON.stringify(name)}: a ${data.constructor.name} cannot be written as ${dtype}`);
}

/** Checks names, dtypes, shapes and ties of the tensors to write, and lays out their byte ranges. */
export function layoutTensors(tensors: readonly TensorToWrite[], file: string): HeaderEntry[] {
  const entries = new Map<string, HeaderEntry>();
  let offset = 0;
  for (const t of tensors) {
    const what = `${file}: tensor ${JSON.stringify(t.name)}`;
    if (typeof t.name !== 'string' || t.name === '' || t.name === '__metadata__') throw new XltError(`${what}: invalid tensor name`);
    if (entries.has(t.name)) throw new XltError(`${what}: written twice`);
    if (!isSafetensorsDtype(t.dtype)) throw new XltError(`${what}: unknown dtype ${JSON.stringify(t.dtype)}`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new XltError(`${what}: shape must be non-negative integers, found ${JSON.stringify(t.shape)}`);
    }
    if (t.tiedTo !== undefined) {
      const target = entries.get(t.tiedTo);
      if (!target) throw new XltError(`${what}: tied to ${JSON.stringify(t.tiedTo)}, which must be written before it`);
      if (target.dtype !== t.dtype || target.shape.join() !== t.shape.join()) {
        throw new XltError(`${what}: tied to ${JSON.stringify(t.tiedTo)} but dtype/shape differ (${t.dtype} [${t.shape.join(', ')}] vs ${target.dtype} [${target.shape.join(', ')}])`);
      }
      entries.set(t.name, { name: t.name, dtype: t.dtype, shape: t.shape, begin: target.begin, end: target.end });
      continue;
    }
    if (t.data === undefined) throw new XltError(`${what}: no data`);
    const length = tensorByteLength(t);
    entries.set(t.name, { name: t.name, dtype: t.dtype, shape: t.shape, begin: offset, end: offset + length });
    offset += length;
  }
  return [...entries.values()];
}

/** Where one tensor's bytes go in a file being written: {@link writeSafetensors} hands these to a `writeData`. */
export interface PlacedTensor {
  readonly tensor: TensorToWrite;
  /** Absolute byte offset of the tensor's first byte in the file. */
  readonly position: number;
  readonly length: number;
}

/** Options of {@link writeSafetensors}. */
export interface WriteSafetensorsOptions {
  /**
   * Writes the data region itself, given where every non-tied tensor goes (the header is already written), e.g.
   * from several threads with positioned writes on `handle.fd`; it may use {@link writeTensorData} for any tensor.
   * Default: each tensor in turn through {@link writeTensorData}.
   */
  readonly writeData?: (handle: FileHandle, placed: readonly PlacedTensor[], path: string) => Promise<void>;
  /**
   * Flush the file to disk (`fdatasync`) before the rename (default true). False only for benchmarks that
   * measure the cost of the flush: the rename of an unflushed file can leave an empty file after a crash.
   */
  readonly sync?: boolean;
}

/**
 * Writes one tensor's bytes at `position` from its data source (called here, so only this tensor is produced);
 * an {@link XltError} naming the file when the data does not have the tensor's length.
 */
export async function writeTensorData(handle: FileHandle, tensor: TensorToWrite, position: number, path: string): Promise<void> {
  const expected = tensorByteLength(tensor);
  let at = position;
  const write = async (bytes: Uint8Array) => {
    let done = 0;
    while (done < bytes.byteLength) {
      const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done, at + done);
      done += bytesWritten;
    }
    at += bytes.byteLength;
  };
  const t = tensor;
  const source = typeof t.data === 'function' ? await t.data() : t.data!;
  if (ArrayBuffer.isView(source)) {
    const bytes = tensorBytes(source as TensorData, t.dtype, t.name);
    if (bytes.byteLength !== expected) {
      throw new XltError(`${path}: tensor ${JSON.stringify(t.name)} (${t.dtype} [${t.shape.join(', ')}]) needs ${expected} bytes, its data has ${bytes.byteLength}`);
    }
    await write(bytes);
  } else {
    for await (const chunk of source as AsyncIterable<Uint8Array>) {
      if (at - position + chunk.byteLength > expected) break;
      await write(chunk);
    }
    if (at - position !== expected) {
      throw new XltError(`${path}: tensor ${JSON.stringify(t.name)} (${t.dtype} [${t.shape.join(', ')}]) needs ${expected} bytes, its chunks do not add up to that`);
    }
  }
}

/**
 * Writes a safetensors file, streaming tensor by tensor: the header first (so the list of tensors is collected
 * first, but data given as functions is only produced when its turn comes), then each tensor's bytes. The
 * header is padded with spaces to a multiple of 8 bytes. The file is written to a temporary name, flushed
 * (`fdatasync`) and renamed, so a failure (bad data, a throwing data source) leaves no partial file at `path`.
 */
export async function writeSafetensors(
  path: string,
  tensors: Iterable<TensorToWrite> | AsyncIterable<TensorToWrite>,
  metadata?: Readonly<Record<string, string>>,
  options: WriteSafetensorsOptions = {},
): Promise<void> {
  const list: TensorToWrite[] = [];
  for await (const t of tensors) list.push(t);
  for (const [k, v] of Object.entries(metadata ?? {})) {
    if (typeof v !== 'string') throw new XltError(`${path}: metadata ${JSON.stringify(k)} must be a string, found ${typeof v}`);
  }
  const entries = layoutTensors(list, path);
  const header = encodeHeader(entries, metadata);
  await withAtomicFile(path, async (tmp) => {
    const handle = await open(tmp, 'w');
    try {
      let done = 0;
      while (done < header.byteLength) done += (await handle.write(header, done, header.byteLength - done, done)).bytesWritten;
      const placed: PlacedTensor[] = [];
      for (let i = 0; i < list.length; i++) {
        if (list[i]!.tiedTo === undefined) placed.push({ tensor: list[i]!, position: header.byteLength + entries[i]!.begin, length: entries[i]!.end - entries[i]!.begin });
      }
      if (options.writeData) await options.writeData(handle, placed, path);
      else for (const p of placed) await writeTensorData(handle, p.tensor, p.position, path);
      // fdatasync: the data and the size, which is all a reader after a crash needs (no timestamps)
      if (options.sync !== false) await handle.datasync();
    } finally {
      await handle.close();
    }
  });
}
