import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '@xlt/plugin-api/testing';
import { expect, it } from 'vitest';
import { averageCheckpoints } from './average-checkpoints.js';
import { writeToyCheckpoint } from './testing/checkpoint-fixtures.js';

const MiB = 1 << 20;

it('averaging 32 inputs stays under 2x the largest tensor + 64 MiB of extra RSS', async () => {
  const { dir, cleanup } = await tempDir('xlt-avg-mem-');
  try {
    // 32 inputs x 3 tensors of 4 MiB: loading one tensor of every input at once would need 128 MiB.
    const elements = 1 << 20;
    const largest = elements * 4;
    const first = join(dir, 'c0.safetensors');
    await writeToyCheckpoint(first, 1, { large: { tensors: 3, elements } });
    const paths = [first];
    for (let i = 1; i < 32; i++) {
      paths.push(join(dir, `c${i}.safetensors`));
      await copyFile(first, paths[i]!);
    }
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
    try {
      await averageCheckpoints(paths.map((path) => ({ path, weight: 1 })), join(dir, 'avg.safetensors'));
    } finally {
      clearInterval(timer);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    const extra = peak - baseline;
    expect(extra, `extra RSS ${(extra / MiB).toFixed(1)} MiB`).toBeLessThan(2 * largest + 64 * MiB);
  } finally {
    await cleanup();
  }
});
