import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from './process-alive.js';

/** Temporary files of atomic writes: `.<name>.<pid>.<8 hex>.tmp` (see `tempPathFor`), files or folders. */
const TEMP_NAME = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;


/**
 * Removes what interrupted work left in an output folder: temporary files and folders of atomic writes whose
 * process is gone, and greedy soup's scratch averages (`models/.scratch`) an hour old. A temp name carries its writer's pid;
 * the pid only means something on this machine, so an entry must also be untouched for `minAgeMs` (a writer on
 * another machine sharing the folder keeps its file fresh). Returns the paths removed and their bytes.
 */
export async function sweepDebris(root: string, minAgeMs = 60_000): Promise<{ paths: string[]; bytes: number }> {
  const removed: string[] = [];
  let bytes = 0;
  const now = Date.now();
  const sizeOf = async (path: string): Promise<number> => {
    const s = await stat(path);
    if (!s.isDirectory()) return s.size;
    let total = 0;
    for (const e of await readdir(path)) total += await sizeOf(join(path, e));
    return total;
  };
  const take = async (path: string) => {
    bytes += await sizeOf(path).catch(() => 0);
    await rm(path, { recursive: true, force: true });
    removed.push(path);
  };
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const path = join(dir, e.name);
      const temp = TEMP_NAME.exec(e.name);
      if (temp) {
        const age = now - (await stat(path)).mtimeMs;
        if (!processAlive(Number(temp[1])) && age >= minAgeMs) await take(path);
      } else if (e.isDirectory()) {
        if (e.name === '.scratch' && dir.endsWith('models')) {
          // A scratch average carries no pid; one an hour old belongs to no merge still running.
          for (const s of await readdir(path)) if (now - (await stat(join(path, s))).mtimeMs >= Math.max(minAgeMs, 3_600_000)) await take(join(path, s));
        } else await walk(path);
      }
    }
  };
  await walk(root);
  return { paths: removed, bytes };
}
