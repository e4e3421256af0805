import type * as tfjs from '@tensorflow/tfjs';
import {
  normalArray,
  seededRandom,
  XltError,
  type BatchTargets,
  type HeadContext,
  type TaskHead,
} from '@xlt/plugin-api';

function linear(tf: typeof tfjs, x: tfjs.Tensor2D, weight: tfjs.Tensor, bias: tfjs.Tensor): tfjs.Tensor2D {
  return tf.add(tf.matMul(x, weight as tfjs.Tensor2D, false, true), bias);
}

function param(params: Readonly<Record<string, tfjs.Tensor>>, name: string): tfjs.Tensor {
  const tensor = params[name];
  if (!tensor) throw new XltError(`The NLI head needs parameter "${name}", which was not given (got ${Object.keys(params).join(', ') || 'none'}).`);
  return tensor;
}

/**
 * The sequence-classification head of HF `transformers` for the encoder's architecture (as its provider declares it
 * in `EncoderConfig.architecture`), with HF's parameter names:
 *
 * - `pooler-classifier` (BERT, `BertForSequenceClassification`): the tanh pooler over `[CLS]`
 *   (`bert.pooler.dense.*`, which the pretrained checkpoint holds and the trainer loads from it), dropout, then
 *   `classifier.weight` `[L, H]` / `classifier.bias`.
 * - `dense-out-proj` (XLM-R / RoBERTa, `RobertaClassificationHead`): over `<s>`, dropout, `classifier.dense`
 *   `[H, H]`, tanh, dropout, `classifier.out_proj` `[L, H]`.
 *
 * Dropout is `options.classifierDropout`, else the config's `classifier_dropout`, else `hidden_dropout_prob`, as in HF;
 * its masks are drawn from `dropoutSeed` (one seed per dropout layer), else from a generator seeded with
 * `options.seed` (default 0), so that runs repeat.
 */
export function createNliHead(context: HeadContext): TaskHead {
  const { encoder, labels, options } = context;
  const hidden = encoder.hiddenSize;
  const numLabels = labels.length;
  const architecture = encoder.architecture;
  if (!architecture) {
    throw new XltError(
      `The NLI task cannot build a classification head for model_type "${encoder.modelType}": its config names no architecture (EncoderConfig.architecture, which an encoder provider sets when it parses config.json).`,
    );
  }
  const robertaStyle = architecture.classificationHead === 'dense-out-proj';
  const pooler = `${architecture.parameterPrefix}pooler.dense`;
  const configured = options.classifierDropout ?? encoder.raw.classifier_dropout;
  const dropoutRate = typeof configured === 'number' ? configured : encoder.hiddenDropoutProb;
  // Without a dropoutSeed from the trainer, masks come from a generator seeded with options.seed, so runs still repeat.
  const fallbackSeeds = seededRandom(typeof options.seed === 'number' ? options.seed : 0);
  /** One seed per dropout layer of a forward call: `dropoutSeed`, then `dropoutSeed + 1`, ... */
  const maskSeeds = (dropoutSeed: number | undefined): (() => number) => {
    let next = dropoutSeed;
    return () => (next === undefined ? Math.floor(fallbackSeeds() * 2 ** 31) : next++);
  };
  const dropout = (tf: typeof tfjs, x: tfjs.Tensor2D, training: boolean, seed: () => number): tfjs.Tensor2D =>
    training && dropoutRate > 0 ? (tf.dropout(x, dropoutRate, undefined, seed()) as tfjs.Tensor2D) : x;

  const parameters: Record<string, readonly number[]> = robertaStyle
    ? {
        'classifier.dense.weight': [hidden, hidden],
        'classifier.dense.bias': [hidden],
        'classifier.out_proj.weight': [numLabels, hidden],
        'classifier.out_proj.bias': [numLabels],
      }
    : {
        [`${pooler}.weight`]: [hidden, hidden],
        [`${pooler}.bias`]: [hidden],
        'classifier.weight': [numLabels, hidden],
        'classifier.bias': [numLabels],
      };

  return {
    parameters,
    architectureSuffix: 'ForSequenceClassification',
    init(random: () => number): Record<string, Float32Array> {
      // Sorted names: the draw order, hence the values, do not depend on object key order.
      const values: Record<string, Float32Array> = {};
      for (const name of Object.keys(parameters).sort()) {
        const size = parameters[name]!.reduce((a, b) => a * b, 1);
        values[name] = name.endsWith('.bias') ? new Float32Array(size) : normalArray(size, encoder.initializerRange, random);
      }
      return values;
    },
    forward(tf, states, params, training, dropoutSeed) {
      const seed = maskSeeds(dropoutSeed);
      return tf.tidy(() => {
        const [batch, , width] = states.shape;
        const first = tf.reshape(tf.slice(states, [0, 0, 0], [batch, 1, width]), [batch, width]) as tfjs.Tensor2D;
        if (robertaStyle) {
          const dense = tf.tanh(linear(tf, dropout(tf, first, training, seed), param(params, 'classifier.dense.weight'), param(params, 'classifier.dense.bias')));
          return linear(tf, dropout(tf, dense, training, seed), param(params, 'classifier.out_proj.weight'), param(params, 'classifier.out_proj.bias'));
        }
        const pooled = tf.tanh(linear(tf, first, param(params, `${pooler}.weight`), param(params, `${pooler}.bias`)));
        return linear(tf, dropout(tf, pooled, training, seed), param(params, 'classifier.weight'), param(params, 'classifier.bias'));
      });
    },
    loss(tf, logits, targets: BatchTargets) {
      const labelsOf = targets.labels;
      if (!(labelsOf instanceof Int32Array)) throw new XltError('The NLI loss needs int32 "labels" targets, as collate gives them.');
      return tf.tidy(() => {
        const oneHot = tf.oneHot(tf.tensor1d(labelsOf, 'int32'), numLabels);
        return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), -1))) as tfjs.Scalar;
      });
    },
  };
}
