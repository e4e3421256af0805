import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '@xlt/plugin-api/testing';
import { sweepDebris } from './debris.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('xlt-debris-')));
afterEach(() => cleanup());

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((done) => child.on('exit', done));
  return child.pid!;
}

describe('sweepDebris', () => {
  it('removes temp files and folders of dead writers and old scratch averages, and keeps live, fresh and ordinary files', async () => {
    const dead = await deadPid();
    const old = new Date(Date.now() - 2 * 3_600_000);
    const put = async (path: string, bytes: number, age?: Date) => {
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(path, Buffer.alloc(bytes));
      if (age) await utimes(path, age, age);
    };
    const deadFile = join(dir, 'runs', 'r', `.done.json.${dead}.0123abcd.tmp`);
    const deadFolder = join(dir, 'models', 'ca', 'r', `.model.${dead}.89abcdef.tmp`);
    const liveFile = join(dir, 'runs', 'r', `.done.json.${process.pid}.0123abcd.tmp`);
    const freshDead = join(dir, 'eval', `.metrics.json.${dead}.00000000.tmp`);
    const scratch = join(dir, 'models', '.scratch', 'a1b2c3');
    const ordinary = join(dir, 'runs', 'r', 'done.json');
    await put(deadFile, 10, old);
    await put(join(deadFolder, 'model.safetensors'), 1000);
    await utimes(deadFolder, old, old);
    await put(liveFile, 5, old);
    await put(freshDead, 5);
    await put(join(scratch, 'model.safetensors'), 100);
    await utimes(scratch, old, old);
    await put(ordinary, 7, old);
    const swept = await sweepDebris(dir);
    expect(swept.paths.sort()).toEqual([deadFile, deadFolder, scratch].sort());
    expect(swept.bytes).toBe(1110);
    for (const kept of [liveFile, freshDead, ordinary]) expect(existsSync(kept), kept).toBe(true);
  });
});
