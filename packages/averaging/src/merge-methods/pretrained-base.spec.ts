import { join } from 'node:path';
import { openCheckpoint, writeSafetensors } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeCheckpoints } from './merge-checkpoints.js';

let dir: string;
let cleanup: () => Promise<void>;
const f32 = (name: string, values: number[]) => ({ name, dtype: 'F32' as const, shape: [values.length], data: new Float32Array(values) });

// A fine-tuned classifier has a task head its pretrained model lacks, and the pretrained model has a pretraining
// head the classifier lacks (mergekit issues 229 and 381): merging against it must still work.
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('xlt-merge-base-'));
  await writeSafetensors(join(dir, 'a.safetensors'), [f32('encoder.w', [1, 2, 3, 4]), f32('classifier.weight', [1, 1])]);
  await writeSafetensors(join(dir, 'b.safetensors'), [f32('encoder.w', [3, 2, 1, 0]), f32('classifier.weight', [3, 5])]);
  await writeSafetensors(join(dir, 'base.safetensors'), [f32('encoder.w', [0, 0, 0, 0]), f32('cls.predictions.bias', [7, 7, 7])]);
});
afterAll(() => cleanup());

describe('merging fine-tuned classifiers against a pretrained base', () => {
  it('merges the shared tensors with the method, takes the weighted mean of the task head the base lacks, and ignores the base-only tensors', async () => {
    const out = join(dir, 'ta.safetensors');
    const plan = [{ path: join(dir, 'a.safetensors'), weight: 0.25 }, { path: join(dir, 'b.safetensors'), weight: 0.75 }];
    const result = await mergeCheckpoints(plan, out, { method: 'task_arithmetic', params: { lambda: 2 }, base: join(dir, 'base.safetensors') });
    expect(result.meanTensors).toEqual(['classifier.weight']);
    const merged = await openCheckpoint(out);
    try {
      expect([...merged.tensors.keys()].sort()).toEqual(['classifier.weight', 'encoder.w']);
      // Task arithmetic: base + lambda * sum(w_i * (theta_i - base)), weights as given.
      expect([...(await merged.readFloat32('encoder.w'))]).toEqual([2 * (0.25 * 1 + 0.75 * 3), 2 * 2, 2 * (0.25 * 3 + 0.75 * 1), 2 * (0.25 * 4)]);
      expect([...(await merged.readFloat32('classifier.weight'))]).toEqual([0.25 * 1 + 0.75 * 3, 0.25 * 1 + 0.75 * 5]);
      expect(JSON.parse(merged.metadata['xlt_merge_mean_tensors']!)).toEqual(['classifier.weight']);
    } finally {
      await merged.close();
    }
  });

  it('still refuses a base tensor of another shape, naming it', async () => {
    await writeSafetensors(join(dir, 'bad-base.safetensors'), [f32('encoder.w', [0, 0, 0])]);
    const plan = [{ path: join(dir, 'a.safetensors'), weight: 1 }];
    await expect(mergeCheckpoints(plan, join(dir, 'bad.safetensors'), { method: 'ties', base: join(dir, 'bad-base.safetensors') })).rejects.toThrow(/"encoder\.w".*expected shape \[4\].*found shape \[3\]/s);
  });
});
