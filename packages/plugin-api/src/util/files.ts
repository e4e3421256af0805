import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../errors.js';

/** True when the bytes start with the gzip magic `1f 8b`: files are recognised by content, not by name. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Reads a file as bytes, gunzipping it when it is gzip-compressed (whatever its name). */
export async function readBytes(file: string): Promise<Buffer> {
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (error) {
    throw new InputError([{ file, expected: 'a readable file', found: (error as NodeJS.ErrnoException).code ?? String(error) }]);
  }
  if (!isGzip(raw)) return raw;
  try {
    return gunzipSync(raw);
  } catch (error) {
    throw new InputError([{ file, expected: 'a complete gzip stream', found: (error as Error).message }]);
  }
}

/** Reads a UTF-8 text file (gzip-compressed or not). A leading byte-order mark is kept: offsets depend on it. */
export async function readText(file: string): Promise<string> {
  const bytes = await readBytes(file);
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  try {
    return decoder.decode(bytes);
  } catch {
    throw new InputError([{ file, expected: 'UTF-8 text', found: 'bytes that are not valid UTF-8' }]);
  }
}

/** A temporary name beside `file`, so the final rename stays on one file system and is atomic. */
export function tempPathFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Writes a file atomically: to a temporary file beside it, fsynced, then renamed over the target.
 * A crash leaves either the old file or the new one, never a partial one.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = tempPathFor(file);
  try {
    await writeFile(tmp, data);
    const handle = await open(tmp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw withPath(error, file);
  }
}

/**
 * Runs `write` against a temporary path and renames it to `file` only when `write` succeeds; on failure the
 * temporary file is removed and nothing appears at `file`.
 */
export async function withAtomicFile<T>(file: string, write: (tmpPath: string) => Promise<T>): Promise<T> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = tempPathFor(file);
  try {
    const result = await write(tmp);
    await rename(tmp, file);
    return result;
  } catch (error) {
    await rm(tmp, { force: true, recursive: true });
    throw withPath(error, file);
  }
}

/**
 * Names `path` in a file-system error that carries none and returns the error: a failed write(2) or fsync(2) on
 * an open file (ENOSPC, EIO, EDQUOT) has no path, and "ENOSPC at write" alone does not say which disk is full.
 */
export function withPath(error: unknown, path: string): unknown {
  const e = error as NodeJS.ErrnoException | undefined;
  if (e instanceof Error && typeof e.code === 'string' && e.path === undefined) e.path = path;
  return error;
}

/** Runs a synchronous file operation on an open file, naming `path` in its error (see {@link withPath}). */
export function namingPath<T>(path: string, operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    throw withPath(error, path);
  }
}
