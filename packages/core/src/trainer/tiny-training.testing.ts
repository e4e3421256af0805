/**
 * Test helpers of the trainer: a tiny random BERT on the deterministic `tfjs-cpu` backend, a sequence
 * classification head over the first token, and a learnable toy task (the label is told by the first token).
 * Used by the specs and by the child process of the kill-and-resume test.
 */
import type * as tfjs from '@tensorflow/tfjs';
import { tfjsCpuBackend } from '../backends/tfjs-backends.js';
import { bertProvider } from '../encoders/bert-provider.js';
import {
  type EncoderRuntime,
  type EncoderConfig,
  type NamedTensors,
  type BatchTargets,
  type Feature,
  type TaskContext,
  type TaskHead,
  seededRandom,
} from '@xlt/plugin-api';

/** A feature of the toy task. */
export interface ToyFeature extends Feature {
  readonly label: number;
}

/** A 1-layer BERT config: hidden 16, 2 heads, vocab 24. */
export function tinyBertConfig(dropout = 0.1): EncoderConfig {
  return bertProvider.parseConfig(
    {
      model_type: 'bert',
      vocab_size: 24,
      hidden_size: 16,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 32,
      hidden_act: 'gelu',
      hidden_dropout_prob: dropout,
      attention_probs_dropout_prob: dropout,
      max_position_embeddings: 32,
      type_vocab_size: 2,
      initializer_range: 0.1,
      pad_token_id: 0,
    },
    'tiny-config.json',
  );
}

/** Random encoder parameters (uniform in ±0.1, LayerNorm weights 1) drawn from `seed`. */
export function tinyEncoderParameters(config: EncoderConfig, seed: number): NamedTensors {
  const random = seededRandom(seed);
  const out: NamedTensors = new Map();
  for (const [name, shape] of bertProvider.parameterShapes(config)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (name.includes('LayerNorm.weight')) data.fill(1);
    else if (!name.endsWith('.bias')) for (let i = 0; i < size; i++) data[i] = (random() - 0.5) * 0.2;
    out.set(name, { shape, data });
  }
  return out;
}

/** A tiny random encoder on the deterministic tfjs-cpu backend. */
export async function tinyRuntime(seed = 1, dropout = 0.1): Promise<EncoderRuntime> {
  const config = tinyBertConfig(dropout);
  return tfjsCpuBackend.createEncoder(config, bertProvider, tinyEncoderParameters(config, seed));
}

/** `count` toy features of lengths 4..9 (SEP=2), alternating labels; the first token is 5 for label 1, else 6. */
export function toyFeatures(count: number, seed = 7): ToyFeature[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const n = 2 + Math.floor(random() * 6);
    const words = Array.from({ length: n }, () => 3 + Math.floor(random() * 20));
    const inputIds = [i % 2 === 0 ? 5 : 6, ...words, 2];
    return { exampleIndex: i, inputIds, tokenTypeIds: inputIds.map(() => 0), label: i % 2 === 0 ? 1 : 0 };
  });
}

/** The toy task's collate: labels `[B]`. */
export const toyTask = {
  collate(features: readonly ToyFeature[]): BatchTargets {
    return { labels: Int32Array.from(features.map((f) => f.label)) };
  },
};

/** A context for the toy task. */
export const toyContext: TaskContext = { labels: ['no', 'yes'], maxLength: 32, options: {} };

/** Classification over the first token (`classifier.weight` [2, H], `classifier.bias` [2]) with seeded dropout. */
export function toyHead(hidden: number, dropout = 0.1): TaskHead {
  return {
    parameters: { 'classifier.weight': [2, hidden], 'classifier.bias': [2] },
    init(random) {
      return {
        'classifier.weight': Float32Array.from({ length: 2 * hidden }, () => (random() - 0.5) * 0.2),
        'classifier.bias': new Float32Array(2),
      };
    },
    forward(tf: typeof tfjs, h: tfjs.Tensor3D, params: Readonly<Record<string, tfjs.Tensor>>, training: boolean, seed?: number) {
      return tf.tidy(() => {
        let first: tfjs.Tensor = tf.squeeze(tf.slice(h, [0, 0, 0], [-1, 1, -1]), [1]);
        if (training && dropout > 0) first = tf.dropout(first, dropout, undefined, seed);
        return tf.add(tf.matMul(first, tf.transpose(params['classifier.weight']!)), params['classifier.bias']!);
      });
    },
    loss(tf: typeof tfjs, logits: tfjs.Tensor, targets: BatchTargets) {
      return tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(targets.labels as Int32Array, 'int32'), 2), logits as tfjs.Tensor2D) as tfjs.Scalar);
    },
  } as TaskHead;
}
