import {
  writeFileAtomic,
  writeSafetensors,
  writeShardedSafetensors,
  type FloatDtype,
  type TensorToWrite,
  seededRandom,
} from '@xlt/plugin-api';

/** Core's seeded generator, re-exported for the fixtures' callers. */

export { seededRandom };

/** Shapes of a toy BERT-like model: embeddings, a tied decoder, one layer, an int position buffer and a head. */
export const TOY_SHAPES: ReadonlyArray<readonly [string, readonly number[]]> = [
  ['bert.embeddings.word_embeddings.weight', [50, 8]],
  ['bert.encoder.layer.0.attention.self.query.weight', [8, 8]],
  ['bert.encoder.layer.0.attention.self.query.bias', [8]],
  ['bert.encoder.layer.0.output.LayerNorm.weight', [8]],
  ['classifier.weight', [3, 8]],
  ['classifier.bias', [3]],
];

/** Options of {@link toyCheckpointTensors}. */
export interface ToyCheckpointOptions {
  readonly dtype?: FloatDtype;
  /** Add `cls.predictions.decoder.weight` tied to the word embeddings. */
  readonly tied?: boolean;
  /** Add an I64 `bert.embeddings.position_ids` buffer (equal across checkpoints unless `positionOffset` differs). */
  readonly positionOffset?: number;
  /** Elements per tensor for large synthetic checkpoints: replaces {@link TOY_SHAPES} by `count` tensors of this many. */
  readonly large?: { readonly tensors: number; readonly elements: number };
}

/** Tensors of a random toy checkpoint; values are drawn lazily, so large ones never sit in memory at once. */
export function toyCheckpointTensors(seed: number, options: ToyCheckpointOptions = {}): TensorToWrite[] {
  const dtype = options.dtype ?? 'F32';
  const shapes: (readonly [string, readonly number[]])[] = options.large
    ? Array.from({ length: options.large.tensors }, (_, i) => [`layer.${i}.weight`, [options.large!.elements]] as const)
    : [...TOY_SHAPES];
  const tensors: TensorToWrite[] = shapes.map(([name, shape], i) => ({
    name,
    dtype,
    shape,
    data: () => {
      const random = seededRandom(seed * 1000 + i);
      const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
      for (let k = 0; k < values.length; k++) values[k] = (random() - 0.5) * 2 ** ((k % 7) - 3);
      return values;
    },
  }));
  if (options.tied) tensors.push({ name: 'cls.predictions.decoder.weight', dtype, shape: shapes[0]![1], tiedTo: shapes[0]![0] });
  if (options.positionOffset !== undefined) {
    tensors.push({ name: 'bert.embeddings.position_ids', dtype: 'I64', shape: [1, 4], data: new BigInt64Array([0n, 1n, 2n, 3n].map((v) => v + BigInt(options.positionOffset!))) });
  }
  return tensors;
}

/** Writes a toy checkpoint as one `.safetensors` file with the given `__metadata__`. */
export async function writeToyCheckpoint(path: string, seed: number, options: ToyCheckpointOptions = {}, metadata?: Record<string, string>): Promise<void> {
  await writeSafetensors(path, toyCheckpointTensors(seed, options), metadata);
}

/** Writes a toy HF model folder (config, tokenizer files, weights sharded when `maxShardBytes` is small). */
export async function writeToyModelFolder(folder: string, seed: number, options: ToyCheckpointOptions & { maxShardBytes?: number } = {}, metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(`${folder}/config.json`, JSON.stringify({ model_type: 'bert', hidden_size: 8, vocab_size: 50 }));
  await writeFileAtomic(`${folder}/vocab.txt`, '[PAD]\n[UNK]\n[CLS]\n[SEP]\n');
  await writeFileAtomic(`${folder}/optimizer.pt`, 'not copied');
  await writeShardedSafetensors(folder, toyCheckpointTensors(seed, options), { maxShardBytes: options.maxShardBytes ?? Infinity, ...(metadata ? { metadata } : {}) });
}
