import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '@xlt/plugin-api/testing';
import { tinyEncoderConfig } from '../testing/task-conformance.js';
import { writeCheckpointFolder } from './checkpoint-folder.js';

describe('writeCheckpointFolder', () => {
  it('writes a complete folder with the permissions of the umask (not mkdtemp\'s 0700), leaving no partial folder', async () => {
    const { dir, cleanup } = await tempDir('xlt-checkpoint-folder-');
    try {
      const runDir = join(dir, 'run');
      await mkdir(runDir);
      const encoder = new Map([['bert.embeddings.word_embeddings.weight', { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }]]);
      const folder = await writeCheckpointFolder(runDir, 7, { config: tinyEncoderConfig('bert'), encoder, head: new Map(), metadata: {} });
      expect(folder).toBe(join(runDir, 'checkpoint-7'));
      expect((await stat(folder)).mode & 0o777).toBe((await stat(runDir)).mode & 0o777);
      expect(await readdir(runDir)).toEqual(['checkpoint-7']);
      expect((await readdir(folder)).sort()).toEqual(['config.json', 'model.safetensors']);
    } finally {
      await cleanup();
    }
  });
});
