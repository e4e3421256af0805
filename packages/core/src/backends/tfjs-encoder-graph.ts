import type * as tfjs from '@tensorflow/tfjs';
import { dropoutMask, dropoutSite, type EncoderConfig } from '@xlt/plugin-api';
import type { Tf } from './tfjs-loader.js';

/** Additive mask for padded keys: HF adds the dtype minimum, so masked scores become exactly 0 after softmax. */
export const MASK_VALUE = -3.4028234663852886e38;

/** Inputs of one encoder pass that are not parameters. */
export interface GraphInputs {
  /** Summed word + position + token-type embeddings, `[B*T, H]` (gathered on the host, see the runtime). */
  readonly embeddings: tfjs.Tensor2D;
  /** `(1 - mask) * MASK_VALUE`, `[B, 1, 1, T]`. */
  readonly maskAdd: tfjs.Tensor4D;
  readonly batchSize: number;
  readonly sequenceLength: number;
}

/**
 * Dropout settings of one pass. Masks follow xlt's backend-independent rule (`dropoutMask` of `@xlt/plugin-api`:
 * a hash of (seed, site, element index), sites numbered embeddings 0, then per layer attention probabilities,
 * attention output, FFN output), drawn on the host, so a replay in backward repeats them and every backend agrees.
 */
export interface GraphDropout {
  readonly training: boolean;
  readonly seed: number;
}

/**
 * The encoder after the embedding lookup, as HF's `BertEmbeddings` (LayerNorm, dropout) and post-LN `BertLayer`s.
 * `w(name)` returns a parameter tensor by its name without the layer prefix (`encoder.layer.0.intermediate.dense.weight`);
 * linear weights come transposed, `[in, out]`, because wasm multiplies plain products much faster than transposed ones.
 * Returns the last hidden state `[B*T, H]`.
 */
export function encoderGraph(tf: Tf, config: EncoderConfig, inputs: GraphInputs, w: (name: string) => tfjs.Tensor, dropout: GraphDropout): tfjs.Tensor2D {
  const { batchSize: B, sequenceLength: T } = inputs;
  const H = config.hiddenSize;
  const nh = config.numAttentionHeads;
  const d = H / nh;
  const drop = <X extends tfjs.Tensor>(x: X, rate: number, site: number): X => {
    if (!dropout.training || rate <= 0) return x;
    return tf.mul(x, tf.tensor(dropoutMask(dropout.seed, site, x.size, rate), x.shape, 'float32')) as X;
  };
  const layerNorm = (x: tfjs.Tensor2D, prefix: string): tfjs.Tensor2D => {
    const mean = tf.mean(x, -1, true);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centered), -1, true);
    const normed = tf.mul(centered, tf.rsqrt(tf.add(variance, config.layerNormEps)));
    return tf.add(tf.mul(normed, w(`${prefix}.weight`)), w(`${prefix}.bias`));
  };
  const linear = (x: tfjs.Tensor2D, prefix: string): tfjs.Tensor2D =>
    tf.add(tf.matMul(x, w(`${prefix}.weight`) as tfjs.Tensor2D), w(`${prefix}.bias`));
  const activation = (x: tfjs.Tensor2D): tfjs.Tensor2D => {
    switch (config.hiddenAct) {
      case 'relu':
        return tf.relu(x);
      case 'gelu_new':
      case 'gelu_pytorch_tanh': {
        const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
        return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
      }
      default:
        return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
    }
  };

  let hidden = drop(layerNorm(inputs.embeddings, 'embeddings.LayerNorm'), config.hiddenDropoutProb, dropoutSite.embeddings);
  const scale = Math.sqrt(d);
  for (let i = 0; i < config.numHiddenLayers; i++) {
    const l = `encoder.layer.${i}.`;
    const heads = (x: tfjs.Tensor2D, perm: number[]) => tf.transpose(tf.reshape(x, [B, T, nh, d]), perm);
    const q = heads(linear(hidden, `${l}attention.self.query`), [0, 2, 1, 3]);
    const kT = heads(linear(hidden, `${l}attention.self.key`), [0, 2, 3, 1]);
    const v = heads(linear(hidden, `${l}attention.self.value`), [0, 2, 1, 3]);
    const scores = tf.add(tf.div(tf.matMul(q, kT), scale), inputs.maskAdd);
    const probs = drop(tf.softmax(scores, -1), config.attentionProbsDropoutProb, dropoutSite.attentionProbs(i));
    const context = tf.reshape(tf.transpose(tf.matMul(probs, v), [0, 2, 1, 3]), [B * T, H]) as tfjs.Tensor2D;
    const attended = drop(linear(context, `${l}attention.output.dense`), config.hiddenDropoutProb, dropoutSite.attentionOutput(i));
    const attention = layerNorm(tf.add(attended, hidden), `${l}attention.output.LayerNorm`);
    const intermediate = activation(linear(attention, `${l}intermediate.dense`));
    const output = drop(linear(intermediate, `${l}output.dense`), config.hiddenDropoutProb, dropoutSite.ffnOutput(i));
    hidden = layerNorm(tf.add(output, attention), `${l}output.LayerNorm`);
  }
  return hidden;
}
