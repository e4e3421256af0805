import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type CheckpointMerger, type WeightedCheckpoint, SAFETENSORS_FILE, SafetensorsFile, writeSafetensors } from '@xlt/plugin-api';

/** Every tensor of a checkpoint folder's `model.safetensors` as float32, by name. */
export async function readCheckpointTensors(folder: string): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const file = await SafetensorsFile.open(join(folder, SAFETENSORS_FILE));
  try {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, info] of file.tensors) out.set(name, { shape: [...info.shape], data: await file.readFloat32(name) });
    return out;
  } finally {
    await file.close();
  }
}

/**
 * A plain {@link CheckpointMerger} for core's tests, under the id of `@xlt/averaging`'s default merger, which core cannot depend on: the weighted
 * mean of every tensor of the plan's checkpoints, accumulated in float64, with the first checkpoint's other files
 * (config, tokenizer) copied.
 */
export const tensorMerger: CheckpointMerger = {
  id: 'streaming-mean',
  description: 'test stand-in for @xlt/averaging\'s streaming-mean: float64 weighted mean of every tensor',
  async merge(plan: readonly WeightedCheckpoint[], outDir: string) {
    const sums = new Map<string, { shape: number[]; data: Float64Array }>();
    for (const { checkpoint, weight } of plan) {
      for (const [name, t] of await readCheckpointTensors(checkpoint.path)) {
        const sum = sums.get(name) ?? { shape: t.shape, data: new Float64Array(t.data.length) };
        for (let i = 0; i < t.data.length; i++) sum.data[i]! += weight * t.data[i]!;
        sums.set(name, sum);
      }
    }
    await mkdir(outDir, { recursive: true });
    const first = plan[0]!.checkpoint.path;
    for (const name of await readdir(first)) if (name.endsWith('.json') || name.endsWith('.txt')) await copyFile(join(first, name), join(outDir, name));
    await writeSafetensors(join(outDir, SAFETENSORS_FILE), [...sums].map(([name, t]) => ({ name, dtype: 'F32' as const, shape: t.shape, data: Float32Array.from(t.data) })), { format: 'pt' });
  },
};
