import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** A fresh temporary folder, removed by the returned `cleanup`. */
export async function tempDir(prefix = 'xlt-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A path inside the shared benchmark folder (`XLT_SHARED`, default `../shared` beside the repository), for data
 * tests. Throws a clear error when the file is not there: data tests never skip silently.
 */
export function sharedPath(...parts: string[]): string {
  const root = resolve(process.env.XLT_SHARED ?? resolve(import.meta.dirname, '../../../../../shared'));
  const path = join(root, ...parts);
  if (!existsSync(path)) {
    throw new Error(`Data test input missing: ${path}. The data suite needs ../shared (or XLT_SHARED) with the benchmark files.`);
  }
  return path;
}
