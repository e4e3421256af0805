import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '@xlt/plugin-api/testing';
import { describeFsError } from './fs-errors.js';

const errno = (code: string, syscall: string, path: string, dest?: string) => Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, syscall, path, ...(dest ? { dest } : {}) });

describe('describeFsError', () => {
  it('names the error, the operation, the path and what to do, for a full disk, a read-only disk and a missing folder', () => {
    expect(describeFsError(errno('ENOSPC', 'write', '/out/runs/r/checkpoint-3/model.safetensors'))).toBe(
      'ENOSPC at write /out/runs/r/checkpoint-3/model.safetensors: the disk is full: free space or give an output folder on another disk (--out), then run the same command again to resume.',
    );
    expect(describeFsError(errno('EROFS', 'rename', '/ro/.x.tmp', '/ro/x'))).toBe('EROFS at rename /ro/.x.tmp -> /ro/x: the file system is read-only: give an output folder on a writable disk (--out).');
    expect(describeFsError(errno('ENOENT', 'open', 'data/en.tsv'))).toContain('ENOENT at open data/en.tsv: no such file or folder');
  });

  it('describes a real error from Node (a file where a folder must be) and leaves other errors alone', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(join(dir, 'file'), 'x');
      const error = await mkdir(join(dir, 'file', 'sub')).catch((e: unknown) => e);
      expect(describeFsError(error)).toBe(`ENOTDIR at mkdir ${join(dir, 'file', 'sub')}: a path component is a file, not a folder: check the path.`);
    } finally {
      await cleanup();
    }
    expect(describeFsError(new TypeError('x is undefined'))).toBeUndefined();
    expect(describeFsError(Object.assign(new Error('socket'), { code: 'ECONNRESET' }))).toBeUndefined();
  });
});
