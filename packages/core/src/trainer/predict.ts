import { type EncoderRuntime, type EncoderProvider, type Feature, type TaskHead, XltError } from '@xlt/plugin-api';
import { loadTf } from '../backends/tfjs-loader.js';
import { padBatch } from './batches.js';
import { headForward, type HeadParameters } from './head-pass.js';

/**
 * Logits of each feature for {@link TaskPlugin.decode}: the head's output row of that feature, with per-token
 * outputs (rank 3 and up, `[B, T, ...]`) cut to the feature's own length. Features are batched by length, so
 * little padding is computed, and returned in their input order. No dropout.
 */
export async function predict(
  runtime: EncoderRuntime,
  head: TaskHead,
  params: HeadParameters,
  features: readonly Feature[],
  batchSize: number,
  provider: EncoderProvider,
): Promise<Float32Array[]> {
  // a batch size of 0, a fraction or NaN would never advance the loop below: refuse it rather than spin
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new XltError(`Prediction batch size must be a whole number >= 1, found ${batchSize}.`);
  const tf = await loadTf();
  const order = features.map((_, i) => i).sort((a, b) => features[a]!.inputIds.length - features[b]!.inputIds.length);
  const out = new Array<Float32Array>(features.length);
  for (let start = 0; start < order.length; start += batchSize) {
    const indices = order.slice(start, start + batchSize);
    const batch = padBatch(indices.map((i) => features[i]!), runtime.config, provider);
    const hidden = await runtime.forward(batch, { training: false });
    const [B, T, H] = [batch.batchSize, batch.sequenceLength, runtime.config.hiddenSize];
    const { values, shape } = tf.tidy(() => {
      const tensors = Object.fromEntries(Object.entries(head.parameters).map(([n, s]) => [n, tf.tensor(params[n]!, [...s], 'float32')]));
      const logits = headForward(tf, head, tf.tensor3d(hidden, [B, T, H]), tensors, false);
      return { values: logits.dataSync() as Float32Array, shape: logits.shape };
    });
    const rowSize = values.length / B;
    const perToken = shape.length >= 3;
    const tokenSize = perToken ? rowSize / T : rowSize;
    indices.forEach((featureIndex, b) => {
      const row = values.subarray(b * rowSize, (b + 1) * rowSize);
      out[featureIndex] = row.slice(0, perToken ? features[featureIndex]!.inputIds.length * tokenSize : rowSize);
    });
  }
  return out;
}
