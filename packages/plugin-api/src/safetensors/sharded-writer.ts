import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { XltError } from '../errors.js';
import { writeFileAtomic } from '../util/files.js';
import { SAFETENSORS_FILE, SAFETENSORS_INDEX_FILE } from './checkpoint.js';
import { tensorByteLength, writeSafetensors, type TensorToWrite, type WriteSafetensorsOptions } from './writer.js';

/** Options of {@link writeShardedSafetensors}. */
export interface ShardedWriteOptions extends WriteSafetensorsOptions {
  /** Largest shard in data bytes (HF's `max_shard_size`); a tensor larger than this gets a shard of its own. */
  readonly maxShardBytes: number;
  /** `__metadata__` of every shard (HF writes `{"format": "pt"}`). */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Extra entries of the index's `metadata` besides `total_size`. */
  readonly indexMetadata?: Readonly<Record<string, unknown>>;
  /** File name stem, `model` by default (`model-00001-of-00002.safetensors`). */
  readonly stem?: string;
}

/** What {@link writeShardedSafetensors} wrote. */
export interface ShardedWriteResult {
  /** Paths of the safetensors files, in order. */
  readonly files: string[];
  /** Path of the index, or undefined when everything fitted in one `model.safetensors`. */
  readonly indexFile?: string;
}

/**
 * Writes tensors as an HF checkpoint into `folder`: one `model.safetensors` when they fit in `maxShardBytes`,
 * else `model-0000i-of-0000n.safetensors` shards plus `model.safetensors.index.json`. Tensors are assigned to
 * shards in the given order (tied tensors go with their target). Each file is written atomically and the index
 * last; on failure the files this call wrote are removed.
 */
export async function writeShardedSafetensors(
  folder: string,
  tensors: Iterable<TensorToWrite> | AsyncIterable<TensorToWrite>,
  options: ShardedWriteOptions,
): Promise<ShardedWriteResult> {
  if (!(options.maxShardBytes > 0)) throw new XltError(`maxShardBytes must be positive, found ${options.maxShardBytes}`);
  const list: TensorToWrite[] = [];
  for await (const t of tensors) list.push(t);
  const shards: TensorToWrite[][] = [];
  const shardOf = new Map<string, number>();
  let current: TensorToWrite[] = [];
  let size = 0;
  let total = 0;
  for (const t of list) {
    if (t.tiedTo !== undefined) {
      const target = shardOf.get(t.tiedTo);
      if (target === undefined) throw new XltError(`${folder}: tensor ${JSON.stringify(t.name)} is tied to ${JSON.stringify(t.tiedTo)}, which must come before it`);
      (target === shards.length ? current : shards[target]!).push(t);
      shardOf.set(t.name, target);
      continue;
    }
    const bytes = tensorByteLength(t);
    if (current.length > 0 && size + bytes > options.maxShardBytes) {
      shards.push(current);
      current = [];
      size = 0;
    }
    current.push(t);
    shardOf.set(t.name, shards.length);
    size += bytes;
    total += bytes;
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);
  const stem = options.stem ?? 'model';
  const n = shards.length;
  const names = n === 1 ? [stem === 'model' ? SAFETENSORS_FILE : `${stem}.safetensors`] : shards.map((_, i) => `${stem}-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`);
  const written: string[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const file = join(folder, names[i]!);
      await writeSafetensors(file, shards[i]!, options.metadata, options);
      written.push(file);
    }
    if (n === 1) return { files: written };
    const weightMap: Record<string, string> = {};
    for (const t of [...list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) weightMap[t.name] = names[shardOf.get(t.name)!]!;
    const indexFile = join(folder, stem === 'model' ? SAFETENSORS_INDEX_FILE : `${stem}.safetensors.index.json`);
    const index = { metadata: { ...options.indexMetadata, total_size: total }, weight_map: weightMap };
    await writeFileAtomic(indexFile, `${JSON.stringify(index, null, 2)}\n`);
    return { files: written, indexFile };
  } catch (error) {
    await Promise.all(written.map((f) => rm(f, { force: true })));
    throw error;
  }
}
