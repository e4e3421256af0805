import { hostname } from 'node:os';
import { link, mkdir, open, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { dirname } from 'node:path';
import { XltError, withPath } from '@xlt/plugin-api';
import { processAlive } from './process-alive.js';

/** The work is locked by a live process: a caller may do other work first and come back with `wait`. */
export class WorkHeldElsewhere extends XltError {}

/** What a lock file holds: who does the work, since when. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
}

/** How a lock is kept and judged stale. */
export interface WorkLockOptions {
  /** How often the holder refreshes the lock's mtime (ms). Default 30 s. */
  readonly heartbeatMs?: number;
  /** A lock whose mtime is older than this (ms) is stale: its holder died on another machine. Default 5 min. */
  readonly staleMs?: number;
  /**
   * Wait for a live holder to finish instead of failing (polling every `pollMs`, default 2 s): for work that others
   * need first (the shared head, the zero-shot run a few-shot run continues), which the caller re-checks once it
   * holds the lock.
   */
  readonly wait?: boolean;
  readonly pollMs?: number;
  /** Told once when waiting starts. */
  readonly onWait?: (holder: string) => void;
}


/** Why the lock at `file` is stale (its holder is dead), or undefined while its holder may still be working. */
async function staleness(file: string, holder: LockHolder | undefined, staleMs: number): Promise<string | undefined> {
  const age = Date.now() - (await stat(file)).mtimeMs;
  // An empty lock may be one whose holder is writing it right now: only an old one is debris.
  if (!holder) return age > 10_000 ? 'it is unreadable (its holder died while writing it)' : undefined;
  if (holder.host === hostname() && !processAlive(holder.pid)) return `process ${holder.pid} on this machine is gone`;
  if (age > staleMs) return `its holder has not refreshed it for ${Math.round(age / 1000)} s`;
  return undefined;
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(text) as LockHolder;
    return typeof parsed.pid === 'number' && typeof parsed.host === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes the stale lock whose text is `staleText`, unless another process replaced it meanwhile: the lock is
 * renamed aside (atomic, so only one process gets it) and put back when what was moved is not the stale one.
 * Returns the live holder that was found instead, if any.
 */
async function removeStale(file: string, staleText: string): Promise<LockHolder | undefined> {
  const aside = `${file}.${process.pid}.${Date.now()}.stale`;
  try {
    await rename(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // someone else took it over first
    throw error;
  }
  const moved = await readFile(aside, 'utf8');
  if (moved !== staleText) {
    await link(aside, file).catch(() => {});
    await rm(aside, { force: true });
    return parseHolder(moved);
  }
  await rm(aside, { force: true });
  return undefined;
}

/**
 * Runs `work` while holding the lock file `file`, so that two processes (two `xlt run` on one folder, or SLURM
 * array tasks that share it) never train the same run or head at once. The lock is created atomically
 * (`O_EXCL`), names its holder, and is refreshed while the work runs; a lock whose holder died (a dead pid on
 * this machine, or no refresh for `staleMs` on another) is taken over, so `kill -9` never leaves a folder stuck.
 * A live holder is an error naming it, the work and the file.
 */
export async function withWorkLock<T>(file: string, what: string, work: () => Promise<T>, options: WorkLockOptions = {}): Promise<T> {
  const staleMs = options.staleMs ?? 300_000;
  const me: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  await mkdir(dirname(file), { recursive: true });
  let waited = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(file, 'wx');
      try {
        await handle.writeFile(`${JSON.stringify(me)}\n`);
      } catch (error) {
        // A lock we could not fill (a full disk) is not held: removed, so the next attempt does not wait on it.
        await handle.close();
        await rm(file, { force: true });
        throw withPath(error, file);
      }
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw error;
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text === undefined) continue; // released meanwhile
      const holder = parseHolder(text);
      const stale = await staleness(file, holder, staleMs).catch(() => 'it vanished');
      const live = stale ? await removeStale(file, text) : (holder ?? { pid: -1, host: 'an unknown machine', since: 'just now' });
      if (live) {
        const who = live.pid < 0 ? 'another process' : `process ${live.pid} on ${live.host} since ${live.since}`;
        if (options.wait) {
          if (waited === 0) options.onWait?.(`${what} is being done by ${who}; waiting for it`);
          waited++;
          attempt = -1; // waiting is not a failed attempt
          await new Promise((r) => setTimeout(r, options.pollMs ?? 2000));
          continue;
        }
        throw new WorkHeldElsewhere(`${what} is being done by ${who} (lock ${file}). Wait for it, or use another output folder; if that process is dead, remove the lock file.`);
      }
    }
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(file, now, now).catch(() => {});
  }, options.heartbeatMs ?? 30_000);
  heartbeat.unref();
  try {
    return await work();
  } finally {
    clearInterval(heartbeat);
    await rm(file, { force: true });
  }
}
