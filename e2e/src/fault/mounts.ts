import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

/**
 * Mount helpers for the fault suite. They need CAP_SYS_ADMIN in the current mount namespace: `npm run test:fault`
 * enters a private one (`unshare --mount`, as root or with `--map-root-user`), so nothing leaks to the host and
 * every mount disappears with the suite.
 */
function mount(args: readonly string[]): void {
  try {
    execFileSync('mount', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? error).trim();
    throw new Error(
      `the fault suite could not run "mount ${args.join(' ')}" (${stderr}). It mounts small tmpfs and read-only folders: ` +
        'run it as `npm run test:fault`, which enters its own mount namespace (as root, or as a user with `unshare --map-root-user`).',
    );
  }
}

/** Mounts a tmpfs of `bytes` at `dir` (created): a disk that fills up after that many bytes. */
export function mountTmpfs(dir: string, bytes: number): void {
  mkdirSync(dir, { recursive: true });
  mount(['-t', 'tmpfs', '-o', `size=${bytes}`, 'xlt-fault', dir]);
}

/** Gives the tmpfs at `dir` a new size, keeping its files: "free some space". */
export function resizeTmpfs(dir: string, bytes: number): void {
  mount(['-o', `remount,size=${bytes}`, dir]);
}

/** Makes `dir` visible read-only at `at` (a bind mount): writes there fail with EROFS, whoever the user is. */
export function mountReadOnly(dir: string, at: string): void {
  mkdirSync(at, { recursive: true });
  mount(['--bind', dir, at]);
  mount(['-o', 'remount,ro,bind', at]);
}

/** Unmounts `dir`. */
export function unmount(dir: string): void {
  execFileSync('umount', [dir]);
}
