import type { FileHandle } from 'node:fs/promises';
import { InputError } from '@xlt/plugin-api';

/** One file of a zip archive, as its central directory describes it. */
export interface ZipEntry {
  readonly name: string;
  /** 0 = stored; anything else is a compression method (8 = deflate). */
  readonly method: number;
  /** General-purpose flags; bit 0 = encrypted. */
  readonly flags: number;
  readonly compressedSize: number;
  readonly size: number;
  /** Absolute offset of the entry's local file header. */
  readonly localHeaderOffset: number;
}

/** The central directory of a zip archive: its entries by name, and where the directory begins. */
export interface ZipDirectory {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  /** Absolute offset of the central directory; every entry's data must end before it. */
  readonly directoryOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** The end record is 22 bytes plus a comment of at most 65535. */
const MAX_TAIL = 22 + 0xffff;

/** Fills `length` bytes from `position`, looping over short reads; a file that ends early is an {@link InputError}. */
export async function readRange(handle: FileHandle, position: number, length: number, file: string): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(out, done, Math.min(length - done, 1 << 30), position + done);
    if (bytesRead === 0) {
      throw new InputError([{ file, path: `byte ${position + done}`, expected: `${length - done} more bytes`, found: 'end of file (truncated?)' }]);
    }
    done += bytesRead;
  }
  return out;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function u64(v: DataView, at: number, file: string, what: string): number {
  const n = v.getBigUint64(at, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new InputError([{ file, path: what, expected: 'a 64-bit size or offset below 2^53', found: String(n) }]);
  return Number(n);
}

/**
 * Reads the central directory of a zip file (ZIP64 included), without decompressing anything: PyTorch writes its
 * checkpoints as stored entries, so an entry's bytes are a plain range of the file (see {@link entryRange}).
 * A truncated file, a multi-disk archive or a directory outside the file is an {@link InputError} naming the file.
 */
export async function readZipDirectory(handle: FileHandle, fileSize: number, file: string): Promise<ZipDirectory> {
  const tailLength = Math.min(fileSize, MAX_TAIL);
  const tail = await readRange(handle, fileSize - tailLength, tailLength, file);
  const tv = view(tail);
  let at = -1;
  for (let i = tailLength - 22; i >= 0; i--) {
    // The comment length must reach exactly the end of the file, which rules out the signature inside a comment.
    if (tv.getUint32(i, true) === EOCD && i + 22 + tv.getUint16(i + 20, true) === tailLength) {
      at = i;
      break;
    }
  }
  if (at < 0) {
    throw new InputError([{ file, path: 'end of file', expected: 'a zip end-of-central-directory record (the format of torch.save)', found: `none in the last ${tailLength} bytes (truncated, or not a zip)` }]);
  }
  const eocdOffset = fileSize - tailLength + at;
  let disk = tv.getUint16(at + 4, true);
  let directoryDisk = tv.getUint16(at + 6, true);
  let count = tv.getUint16(at + 10, true);
  let directorySize = tv.getUint32(at + 12, true);
  let directoryOffset = tv.getUint32(at + 16, true);
  if (count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
    if (eocdOffset < 20) throw new InputError([{ file, path: `byte ${eocdOffset}`, expected: 'a ZIP64 end-of-central-directory locator before the end record', found: 'the start of the file' }]);
    const locator = view(await readRange(handle, eocdOffset - 20, 20, file));
    if (locator.getUint32(0, true) !== ZIP64_LOCATOR) {
      throw new InputError([{ file, path: `byte ${eocdOffset - 20}`, expected: 'a ZIP64 end-of-central-directory locator (the end record says ZIP64)', found: `signature 0x${locator.getUint32(0, true).toString(16)}` }]);
    }
    const recordOffset = u64(locator, 8, file, `byte ${eocdOffset - 12}`);
    if (recordOffset + 56 > eocdOffset) throw new InputError([{ file, path: `byte ${eocdOffset - 12}`, expected: `a ZIP64 end record offset below ${eocdOffset - 56}`, found: String(recordOffset) }]);
    const record = view(await readRange(handle, recordOffset, 56, file));
    if (record.getUint32(0, true) !== ZIP64_EOCD) {
      throw new InputError([{ file, path: `byte ${recordOffset}`, expected: 'a ZIP64 end-of-central-directory record', found: `signature 0x${record.getUint32(0, true).toString(16)}` }]);
    }
    disk = record.getUint32(16, true);
    directoryDisk = record.getUint32(20, true);
    count = u64(record, 32, file, `byte ${recordOffset + 32}`);
    directorySize = u64(record, 40, file, `byte ${recordOffset + 40}`);
    directoryOffset = u64(record, 48, file, `byte ${recordOffset + 48}`);
  }
  if (disk !== 0 || directoryDisk !== 0) {
    throw new InputError([{ file, path: `byte ${eocdOffset}`, expected: 'a single-file zip archive', found: `a multi-disk archive (disk ${disk}, directory on disk ${directoryDisk})` }]);
  }
  if (directoryOffset + directorySize > eocdOffset) {
    throw new InputError([{ file, path: `byte ${eocdOffset}`, expected: `a central directory ending by byte ${eocdOffset}`, found: `bytes ${directoryOffset}..${directoryOffset + directorySize} (truncated?)` }]);
  }
  const directory = await readRange(handle, directoryOffset, directorySize, file);
  const dv = view(directory);
  const entries = new Map<string, ZipEntry>();
  const names = new TextDecoder('utf-8');
  let p = 0;
  for (let i = 0; i < count; i++) {
    const where = `central directory entry ${i} (byte ${directoryOffset + p})`;
    if (p + 46 > directorySize || dv.getUint32(p, true) !== CENTRAL) {
      throw new InputError([{ file, path: where, expected: `${count} central directory entries`, found: p + 46 > directorySize ? 'the end of the directory' : 'a wrong signature' }]);
    }
    const nameLength = dv.getUint16(p + 28, true);
    const extraLength = dv.getUint16(p + 30, true);
    const commentLength = dv.getUint16(p + 32, true);
    const next = p + 46 + nameLength + extraLength + commentLength;
    if (next > directorySize) throw new InputError([{ file, path: where, expected: 'an entry inside the central directory', found: 'one that runs past its end' }]);
    const name = names.decode(directory.subarray(p + 46, p + 46 + nameLength));
    let size = dv.getUint32(p + 24, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let localHeaderOffset = dv.getUint32(p + 42, true);
    // ZIP64 extra field: only the 32-bit fields that are saturated appear, in this order.
    for (let e = p + 46 + nameLength; e + 4 <= p + 46 + nameLength + extraLength; ) {
      const id = dv.getUint16(e, true);
      const length = dv.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        const take = () => {
          if (q + 8 > e + 4 + length) throw new InputError([{ file, path: `${where}, ZIP64 extra field`, expected: 'the 64-bit values its 32-bit fields defer to', found: `${length} bytes` }]);
          const n = u64(dv, q, file, `${where}, ZIP64 extra field`);
          q += 8;
          return n;
        };
        if (size === 0xffffffff) size = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
      }
      e += 4 + length;
    }
    entries.set(name, { name, method: dv.getUint16(p + 10, true), flags: dv.getUint16(p + 8, true), compressedSize, size, localHeaderOffset });
    p = next;
  }
  return { entries, directoryOffset };
}

/**
 * The absolute byte range of a stored entry's data, read from its local header (whose extra field, which PyTorch
 * uses to align tensor data, may differ from the central directory's). A compressed or encrypted entry, or data
 * that would run into the central directory, is an {@link InputError} naming the file and the entry.
 */
export async function entryRange(handle: FileHandle, directory: ZipDirectory, entry: ZipEntry, file: string): Promise<{ start: number; end: number }> {
  const path = `zip entry ${JSON.stringify(entry.name)}`;
  if (entry.flags & 1) throw new InputError([{ file, path, expected: 'an unencrypted entry', found: 'an encrypted one' }]);
  if (entry.method !== 0) {
    throw new InputError([
      {
        file,
        path,
        expected: 'a stored (uncompressed) entry, as torch.save writes (re-save the checkpoint with torch.save)',
        found: `compression method ${entry.method}${entry.method === 8 ? ' (deflate)' : ''}`,
      },
    ]);
  }
  if (entry.compressedSize !== entry.size) {
    throw new InputError([{ file, path, expected: 'equal stored and uncompressed sizes (a stored entry)', found: `${entry.compressedSize} and ${entry.size}` }]);
  }
  if (entry.localHeaderOffset + 30 > directory.directoryOffset) {
    throw new InputError([{ file, path, expected: `a local header before the central directory (byte ${directory.directoryOffset})`, found: `byte ${entry.localHeaderOffset}` }]);
  }
  const local = view(await readRange(handle, entry.localHeaderOffset, 30, file));
  if (local.getUint32(0, true) !== LOCAL) {
    throw new InputError([{ file, path: `${path} (byte ${entry.localHeaderOffset})`, expected: 'a zip local file header', found: `signature 0x${local.getUint32(0, true).toString(16)}` }]);
  }
  const start = entry.localHeaderOffset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
  const end = start + entry.size;
  if (end > directory.directoryOffset) {
    throw new InputError([{ file, path, expected: `data ending before the central directory (byte ${directory.directoryOffset})`, found: `bytes ${start}..${end} (truncated or corrupt)` }]);
  }
  return { start, end };
}
