import type * as tfjs from '@tensorflow/tfjs';
import { XltError, normalSampler, type BatchTargets, type HeadContext, type TaskHead } from '@xlt/plugin-api';


/** Names of the collated targets the QA loss reads. */
export const QA_TARGETS = { start: 'start_positions', end: 'end_positions', mask: 'token_mask' } as const;

/**
 * The span head of `BertForQuestionAnswering` / `XLMRobertaForQuestionAnswering`: one linear layer `qa_outputs`
 * from the hidden size to 2 (start, end) on every token, no dropout (HF has none there). Logits `[B, T, 2]`.
 * Loss: the mean of start and end cross-entropies over the sequence, with padding tokens masked out of the softmax
 * (the `token_mask` target), averaged over the batch.
 */
export function createQaHead(context: HeadContext): TaskHead {
  const hidden = context.encoder.hiddenSize;
  const std = context.encoder.initializerRange;
  return {
    parameters: { 'qa_outputs.weight': [2, hidden], 'qa_outputs.bias': [2] },
    architectureSuffix: 'ForQuestionAnswering',
    init(random) {
      const normal = normalSampler(random);
      const weight = new Float32Array(2 * hidden);
      for (let i = 0; i < weight.length; i++) weight[i] = normal() * std;
      return { 'qa_outputs.weight': weight, 'qa_outputs.bias': new Float32Array(2) };
    },
    forward(tf, hiddenStates, params) {
      const weight = params['qa_outputs.weight'];
      const bias = params['qa_outputs.bias'];
      if (!weight || !bias) throw new XltError('The QA head needs the parameters qa_outputs.weight and qa_outputs.bias.');
      return tf.tidy(() => {
        const [b, t, h] = hiddenStates.shape;
        // A plain matMul against an explicit transpose: TF.js wasm is fast only for NN products, and transpose flags take its slow path.
        const flat = tf.matMul(tf.reshape(hiddenStates, [b * t, h]), tf.transpose(weight));
        return tf.reshape(tf.add(flat, bias), [b, t, 2]);
      });
    },
    loss(tf, logits, targets) {
      return qaLoss(tf, logits, targets);
    },
  };
}

/** The QA loss of {@link createQaHead}: `(CE(start) + CE(end)) / 2`, padding masked, mean over the batch. */
export function qaLoss(tf: typeof tfjs, logits: tfjs.Tensor, targets: BatchTargets): tfjs.Scalar {
  const start = targets[QA_TARGETS.start];
  const end = targets[QA_TARGETS.end];
  const mask = targets[QA_TARGETS.mask];
  const [b, t] = logits.shape as [number, number, number];
  if (!start || !end || !mask || start.length !== b || end.length !== b || mask.length !== b * t) {
    throw new XltError(`The QA loss needs targets ${Object.values(QA_TARGETS).join(', ')} of sizes [${b}], [${b}], [${b}, ${t}].`);
  }
  return tf.tidy(() => {
    const maskT = tf.tensor2d(Float32Array.from(mask), [b, t]);
    // A large negative bias rather than -Infinity keeps the gradient finite everywhere.
    const padding = tf.mul(tf.sub(1, maskT), -1e9);
    const [startLogits, endLogits] = tf.split(logits, 2, 2).map((x) => tf.add(tf.reshape(x, [b, t]), padding));
    const ce = (l: tfjs.Tensor, positions: Int32Array | Float32Array) => {
      const oneHot = tf.oneHot(tf.tensor1d(Int32Array.from(positions), 'int32'), t);
      return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(l)), 1)));
    };
    return tf.div(tf.add(ce(startLogits!, start), ce(endLogits!, end)), 2) as tfjs.Scalar;
  });
}
