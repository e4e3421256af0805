import type * as tfjs from '@tensorflow/tfjs';
import { normalArray, XltError, type BatchTargets, type HeadContext, type TaskHead } from '@xlt/plugin-api';
import { IGNORE_LABEL } from './features.js';

/**
 * The head of HF's `BertForTokenClassification` / `XLMRobertaForTokenClassification`: dropout
 * (`hidden_dropout_prob`, training only) then a linear layer `classifier` (`weight` `[L, H]`, `bias` `[L]`) on every
 * token; logits `[B, T, L]`. The loss is the mean cross-entropy over tokens whose label is not -100.
 */
export function createTokenClassificationHead(context: HeadContext): TaskHead {
  const L = context.labels.length;
  const H = context.encoder.hiddenSize;
  const dropout = context.encoder.hiddenDropoutProb;
  if (L < 1) throw new XltError('A token classification head needs at least one label; the label list is empty');
  return {
    parameters: { 'classifier.weight': [L, H], 'classifier.bias': [L] },
    architectureSuffix: 'ForTokenClassification',
    init(random) {
      return {
        'classifier.weight': normalArray(L * H, context.encoder.initializerRange, random),
        'classifier.bias': new Float32Array(L),
      };
    },
    forward(tf, hidden, params, training, dropoutSeed) {
      return tf.tidy(() => {
        const [B, T, hiddenSize] = hidden.shape;
        // A checkpoint's head from another encoder size: the user's folder, not a bug.
        if (hiddenSize !== H) throw new XltError(`Hidden states have size ${hiddenSize}, the head expects ${H}`);
        const weight = params['classifier.weight'];
        const bias = params['classifier.bias'];
        if (!weight || !bias) throw new XltError('The token classification head needs classifier.weight and classifier.bias');
        let x: tfjs.Tensor = hidden;
        if (training && dropout > 0) x = tf.dropout(x, dropout, undefined, dropoutSeed);
        // A plain (untransposed) matMul: TF.js wasm is fast only for NN products.
        const flat = tf.reshape(x, [B * T, H]);
        const logits = tf.add(tf.matMul(flat, tf.transpose(weight)), bias);
        return tf.reshape(logits, [B, T, L]) as tfjs.Tensor3D;
      });
    },
    loss(tf, logits, targets: BatchTargets) {
      const labels = targets['labels'];
      // Collation always sets these: a bug otherwise, so a plain Error keeps its stack.
      if (!(labels instanceof Int32Array)) throw new XltError('Tagging targets need `labels` as an Int32Array [B, T]');
      return tf.tidy(() => {
        const n = labels.length;
        // Logits and labels come from the same batch: a bug otherwise.
        if (logits.size !== n * L) throw new XltError(`Logits hold ${logits.size} values, labels ${n} tokens x ${L} labels`);
        const mask = new Float32Array(n);
        const safe = new Int32Array(n);
        let count = 0;
        for (let i = 0; i < n; i++) {
          const label = labels[i]!;
          if (label === IGNORE_LABEL) continue;
          if (label < 0 || label >= L) throw new XltError(`Label ${label} at position ${i} is outside 0..${L - 1} (the task has ${L} labels)`);
          mask[i] = 1;
          safe[i] = label;
          count++;
        }
        const logProbs = tf.logSoftmax(tf.reshape(logits, [n, L]));
        const picked = tf.sum(tf.mul(logProbs, tf.oneHot(tf.tensor1d(safe, 'int32'), L)), 1);
        // A batch without any labelled token has loss 0 (PyTorch gives NaN): nothing to learn, nothing to break.
        return tf.div(tf.sum(tf.mul(tf.neg(picked), tf.tensor1d(mask))), Math.max(count, 1)) as tfjs.Scalar;
      });
    },
  };
}
