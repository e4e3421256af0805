import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { tempDir } from '@xlt/plugin-api/testing';
import { readMarker, writeMarker } from './layout.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('xlt-layout-')));
afterEach(() => cleanup());

describe('markers', () => {
  it('round-trip, and a missing one is undefined', async () => {
    const file = join(dir, 'done.json');
    expect(await readMarker(file)).toBeUndefined();
    await writeMarker(file, { run: 'a', checkpoints: [1, 2] });
    expect(await readMarker(file)).toEqual({ run: 'a', checkpoints: [1, 2] });
  });

  it('a damaged one (truncated, empty) counts as not done, is kept aside as .damaged and named on stderr', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      for (const text of ['{"run": "a", "checkpo', '']) {
        const file = join(dir, 'done.json');
        await writeFile(file, text);
        expect(await readMarker(file)).toBeUndefined();
        expect(existsSync(file)).toBe(false);
        expect(await readFile(`${file}.damaged`, 'utf8')).toBe(text);
        expect(String(stderr.mock.calls.at(-1)![0])).toContain(`${file} is damaged`);
      }
    } finally {
      stderr.mockRestore();
    }
  });
});
