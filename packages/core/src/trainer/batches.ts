import type { EncodedBatch, EncoderConfig, EncoderProvider, Feature } from '@xlt/plugin-api';

/**
 * Pads features to the longest one in the batch (ids with the config's pad id, types with 0), with the attention
 * mask and the provider's position ids (RoBERTa's offset is applied there).
 */
export function padBatch(features: readonly Feature[], config: EncoderConfig, provider: EncoderProvider): EncodedBatch {
  const B = features.length;
  const T = Math.max(1, ...features.map((f) => f.inputIds.length));
  const inputIds = new Int32Array(B * T).fill(config.padTokenId);
  const tokenTypeIds = new Int32Array(B * T);
  const attentionMask = new Int32Array(B * T);
  const positionIds = new Int32Array(B * T);
  features.forEach((feature, b) => {
    const n = feature.inputIds.length;
    inputIds.set(feature.inputIds, b * T);
    tokenTypeIds.set(feature.tokenTypeIds.slice(0, n), b * T);
    attentionMask.fill(1, b * T, b * T + n);
    positionIds.set(provider.positionIds(Array.from(inputIds.subarray(b * T, (b + 1) * T)), config), b * T);
  });
  return { batchSize: B, sequenceLength: T, inputIds, tokenTypeIds, attentionMask, positionIds };
}

/** Number of real (unpadded) tokens of a batch. */
export function realTokens(batch: EncodedBatch): number {
  let n = 0;
  for (const m of batch.attentionMask) n += m;
  return n;
}
