import type { EncodedBatch, SafetensorsCheckpoint } from '@xlt/plugin-api';
import type { PretrainedModel } from './pretrained-model.js';

/** An int32 tensor of the PyTorch reference file (`test-python/hf_reference.py` writes inputs as I32). */
export async function ints(ref: SafetensorsCheckpoint, name: string): Promise<Int32Array> {
  const bytes = await ref.readBytes(name);
  return new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** The reference's input batch, with position ids from the model's own provider (as the trainer computes them). */
export async function referenceBatch(model: PretrainedModel, ref: SafetensorsCheckpoint): Promise<EncodedBatch> {
  const [batchSize, sequenceLength] = ref.tensors.get('input_ids')!.shape as [number, number];
  const inputIds = await ints(ref, 'input_ids');
  const positionIds = new Int32Array(batchSize * sequenceLength);
  for (let b = 0; b < batchSize; b++) {
    positionIds.set(model.provider.positionIds(Array.from(inputIds.subarray(b * sequenceLength, (b + 1) * sequenceLength)), model.config), b * sequenceLength);
  }
  return { batchSize, sequenceLength, inputIds, tokenTypeIds: await ints(ref, 'token_type_ids'), attentionMask: await ints(ref, 'attention_mask'), positionIds };
}

/** The largest absolute value. */
export function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const x of a) m = Math.max(m, Math.abs(x));
  return m;
}

/** The largest absolute difference; Infinity when the lengths differ, so a shape bug can never pass a tolerance. */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
