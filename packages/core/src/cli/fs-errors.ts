import { accessSync, constants, existsSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Why a folder could not be created under its nearest existing ancestor: `mkdir -p` on a read-only file system
 * fails with a misleading ENOENT in Node (it retries the parent, which exists but cannot take a child), so the
 * ancestor is probed for write access. `undefined` when it is writable or missing.
 */
function unwritableAncestor(path: string): string | undefined {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if (existsSync(dir)) {
      try {
        accessSync(dir, constants.W_OK);
        return undefined;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code;
      }
    }
    if (dir === dirname(dir)) return undefined;
  }
}

/** What to do about the file-system errors a long run meets, by `code`. */
const ADVICE: Readonly<Record<string, string>> = {
  ENOSPC: 'the disk is full: free space or give an output folder on another disk (--out), then run the same command again to resume',
  EDQUOT: 'the disk quota is used up: free space or give an output folder elsewhere (--out), then run again to resume',
  EROFS: 'the file system is read-only: give an output folder on a writable disk (--out)',
  EACCES: 'permission denied: give an output folder you may write to (--out), or fix its permissions',
  EPERM: 'operation not permitted: give an output folder you may write to (--out), or fix its permissions',
  ENOENT: 'no such file or folder: check the path (relative paths in a config are relative to the config file)',
  ENOTDIR: 'a path component is a file, not a folder: check the path',
  EEXIST: 'something already exists at that path (a file where a folder is needed, or an earlier output): check the path',
  EISDIR: 'a folder was given where a file is expected: check the path',
  EMFILE: 'too many open files: raise the limit (ulimit -n) and run again',
  EIO: 'an input/output error from the disk: check the disk and run again',
};

/**
 * One line for a Node file-system error (`ENOSPC`, `EROFS`, `EACCES`, ...): what happened, to which path, and
 * what to do, instead of a stack trace. `undefined` for anything else.
 */
export function describeFsError(error: unknown): string | undefined {
  const e = error as (NodeJS.ErrnoException & { dest?: string }) | undefined;
  if (!e || typeof e !== 'object' || typeof e.code !== 'string' || !(e.code in ADVICE)) return undefined;
  if (e.code === 'ENOENT' && e.syscall === 'mkdir' && e.path) e.code = unwritableAncestor(e.path) ?? e.code;
  const where = e.path ? `${e.syscall ? `${e.syscall} ` : ''}${e.path}${e.dest ? ` -> ${e.dest}` : ''}` : (e.syscall ?? 'a file operation');
  return `${e.code} at ${where}: ${ADVICE[e.code]}.`;
}
