import { readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { InputError, XltError } from '../errors.js';
import { isFloatDtype, type FloatDtype } from './dtype.js';
import { decodeFloat32, decodeFloat64 } from './float-convert.js';
import { headerLength, parseHeader, type TensorInfo } from './header.js';

/**
 * One `.safetensors` file opened for positioned reads: the header is read and validated at {@link open}, tensor
 * bytes are read on demand, so a multi-gigabyte checkpoint costs only the tensors you ask for.
 */
export class SafetensorsFile {
  private constructor(
    /** The path as given to {@link open}. */
    readonly path: string,
    private readonly handle: FileHandle,
    /** Every tensor by name, in file order, with absolute offsets. */
    readonly tensors: ReadonlyMap<string, TensorInfo>,
    /** The string-to-string `__metadata__` of the header (empty when absent). */
    readonly metadata: Record<string, string>,
    /** Size of the file in bytes. */
    readonly size: number,
  ) {}

  /** Opens and validates a file; every problem of the header is an {@link InputError} naming the file. */
  static async open(path: string): Promise<SafetensorsFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw new InputError([{ file: path, expected: 'a readable safetensors file', found: (error as NodeJS.ErrnoException).code ?? String(error) }]);
    }
    try {
      const { size } = await handle.stat();
      const prefix = new Uint8Array(8);
      if (size >= 8) await readFully(handle, prefix, 0, path);
      const length = headerLength(prefix, size, path);
      const headerBytes = new Uint8Array(length);
      await readFully(handle, headerBytes, 8, path);
      const header = parseHeader(headerBytes, size, path);
      return new SafetensorsFile(path, handle, header.tensors, header.metadata, size);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** The open file descriptor, for positioned reads from worker threads (descriptors belong to the process). */
  get fd(): number {
    return this.handle.fd;
  }

  /** The info of one tensor; an {@link XltError} naming the file and listing a few names when absent. */
  info(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (!info) {
      const some = [...this.tensors.keys()].slice(0, 5).map((n) => JSON.stringify(n)).join(', ');
      throw new XltError(`${this.path}: no tensor ${JSON.stringify(name)} (it has ${this.tensors.size} tensors, e.g. ${some || 'none'})`);
    }
    return info;
  }

  /** The raw little-endian bytes of a tensor (a positioned read of exactly its range). */
  async readBytes(name: string): Promise<Uint8Array> {
    const info = this.info(name);
    const out = new Uint8Array(info.end - info.start);
    await readFully(this.handle, out, info.start, this.path);
    return out;
  }

  /**
   * Reads `target.length` bytes of a tensor starting `offset` bytes into it: streaming consumers read large
   * tensors in chunks into a reused buffer.
   */
  async readInto(name: string, target: Uint8Array, offset = 0): Promise<void> {
    const info = this.info(name);
    if (offset < 0 || offset + target.byteLength > info.end - info.start) {
      throw new RangeError(`${this.path}: bytes ${offset}..${offset + target.byteLength} are outside tensor ${JSON.stringify(name)} (${info.end - info.start} bytes)`);
    }
    await readFully(this.handle, target, info.start + offset, this.path);
  }

  /**
   * {@link readInto}, synchronously: for streaming loops over many small reads (~128 KiB) that are served from the
   * page cache, where a thread-pool round trip per read costs more than the copy and a small target stays in the
   * CPU cache for the arithmetic that follows (a large target is several times slower to fill).
   */
  readIntoSync(name: string, target: Uint8Array, offset = 0): void {
    const info = this.info(name);
    if (offset < 0 || offset + target.byteLength > info.end - info.start) {
      throw new RangeError(`${this.path}: bytes ${offset}..${offset + target.byteLength} are outside tensor ${JSON.stringify(name)} (${info.end - info.start} bytes)`);
    }
    const position = info.start + offset;
    let done = 0;
    while (done < target.byteLength) {
      const bytesRead = readSync(this.handle.fd, target, done, Math.min(target.byteLength - done, 1 << 30), position + done);
      if (bytesRead === 0) {
        throw new InputError([
          { file: this.path, path: `byte ${position + done}`, expected: `${target.byteLength - done} more bytes`, found: 'end of file (was the file truncated while open?)' },
        ]);
      }
      done += bytesRead;
    }
  }

  /** A float tensor (F16, BF16, F32 or F64) as float32. */
  async readFloat32(name: string): Promise<Float32Array> {
    return decodeFloat32(await this.readBytes(name), this.floatDtype(name));
  }

  /** A float tensor (F16, BF16, F32 or F64) as float64. */
  async readFloat64(name: string): Promise<Float64Array> {
    return decodeFloat64(await this.readBytes(name), this.floatDtype(name));
  }

  /** Releases the file handle. */
  async close(): Promise<void> {
    await this.handle.close();
  }

  private floatDtype(name: string): FloatDtype {
    const { dtype } = this.info(name);
    if (!isFloatDtype(dtype)) {
      throw new InputError([{ file: this.path, path: `header[${JSON.stringify(name)}].dtype`, expected: 'a float dtype (F16, BF16, F32, F64)', found: dtype }]);
    }
    return dtype;
  }
}

/** Fills `target` from `position`, looping over short reads; a file that shrank is an {@link InputError}. */
async function readFully(handle: FileHandle, target: Uint8Array, position: number, file: string): Promise<void> {
  let done = 0;
  while (done < target.byteLength) {
    const length = Math.min(target.byteLength - done, 1 << 30);
    const { bytesRead } = await handle.read(target, done, length, position + done);
    if (bytesRead === 0) {
      throw new InputError([{ file, path: `byte ${position + done}`, expected: `${target.byteLength - done} more bytes`, found: 'end of file (was the file truncated while open?)' }]);
    }
    done += bytesRead;
  }
}
