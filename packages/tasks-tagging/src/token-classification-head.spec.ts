import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '@xlt/plugin-api';
import { tinyEncoderConfig } from '@xlt/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTokenClassificationHead } from './token-classification-head.js';

/** A tiny BERT config of the given hidden size and dropout (all the head reads, with `initializerRange`). */
const encoder = (hiddenSize: number, hiddenDropoutProb = 0.1) => ({ ...tinyEncoderConfig('bert', hiddenSize), hiddenDropoutProb });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('createTokenClassificationHead', () => {
  const labels = ['O', 'B-PER', 'I-PER'];

  it('has HF parameter names and shapes, normal weights and zero bias', () => {
    const head = createTokenClassificationHead({ encoder: encoder(8), labels, options: {} });
    expect(head.parameters).toEqual({ 'classifier.weight': [3, 8], 'classifier.bias': [3] });
    const params = head.init(seededRandom(7));
    expect(params['classifier.weight']).toHaveLength(24);
    expect(params['classifier.bias']).toEqual(new Float32Array(3));
    expect(params['classifier.weight']!.some((v) => v !== 0)).toBe(true);
  });

  it('computes hidden · Wᵀ + b per token, shape [B, T, L]', () => {
    const head = createTokenClassificationHead({ encoder: encoder(2), labels, options: {} });
    const hidden = tf.tensor3d([[[1, 2], [3, 4]]]);
    const params = { 'classifier.weight': tf.tensor2d([[1, 0], [0, 1], [1, 1]]), 'classifier.bias': tf.tensor1d([0.5, 0, -1]) };
    const logits = head.forward(tf, hidden, params, false);
    expect(logits.shape).toEqual([1, 2, 3]);
    expect(Array.from(logits.dataSync())).toEqual([1.5, 2, 2, 3.5, 4, 6]);
  });

  it('applies dropout only in training, reproducibly for a seed', () => {
    const head = createTokenClassificationHead({ encoder: encoder(64, 0.5), labels, options: {} });
    const hidden = tf.ones([2, 8, 64]) as tf.Tensor3D;
    const init = head.init(seededRandom(3));
    const params = { 'classifier.weight': tf.tensor2d(init['classifier.weight']!, [3, 64]), 'classifier.bias': tf.tensor1d(init['classifier.bias']!) };
    const evalA = head.forward(tf, hidden, params, false).dataSync();
    const evalB = head.forward(tf, hidden, params, false).dataSync();
    expect(evalA).toEqual(evalB);
    const trainA = head.forward(tf, hidden, params, true, 42).dataSync();
    expect(trainA).not.toEqual(evalA);
    expect(head.forward(tf, hidden, params, true, 42).dataSync()).toEqual(trainA);
  });

  it('loss is the mean cross-entropy over labels other than -100', () => {
    const head = createTokenClassificationHead({ encoder: encoder(2), labels: ['a', 'b'], options: {} });
    const logits = tf.tensor3d([[[0, 0], [Math.log(3), 0], [5, -5]]]);
    const loss = head.loss(tf, logits, { labels: new Int32Array([0, 1, -100]) });
    // token 0: -log(1/2); token 1: -log(1/4); token 2 ignored
    expect(loss.dataSync()[0]).toBeCloseTo((Math.log(2) + Math.log(4)) / 2, 5);
    expect(head.loss(tf, logits, { labels: new Int32Array([-100, -100, -100]) }).dataSync()[0]).toBe(0);
    expect(() => head.loss(tf, logits, { labels: new Int32Array([0, 2, 0]) })).toThrow(/outside 0\.\.1/);
  });

  it('learns: the loss on random hidden states falls after a few gradient steps', () => {
    const H = 16;
    const head = createTokenClassificationHead({ encoder: encoder(H, 0.1), labels, options: {} });
    const random = seededRandom(11);
    const init = head.init(random);
    const weight = tf.variable(tf.tensor2d(init['classifier.weight']!, [3, H]));
    const bias = tf.variable(tf.tensor1d(init['classifier.bias']!));
    const hidden = tf.tensor3d(Array.from({ length: 2 * 6 * H }, () => random() * 2 - 1), [2, 6, H]);
    const targets = { labels: new Int32Array([-100, 0, 1, 2, 0, -100, -100, 2, 2, 1, -100, -100]) };
    const lossOf = (training: boolean, step = 0) =>
      head.loss(tf, head.forward(tf, hidden, { 'classifier.weight': weight, 'classifier.bias': bias }, training, step), targets);
    const before = lossOf(false).dataSync()[0]!;
    for (let step = 1; step <= 20; step++) {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => lossOf(true, step), [weight, bias]);
        weight.assign(tf.sub(weight, tf.mul(grads[weight.name]!, 0.5)));
        bias.assign(tf.sub(bias, tf.mul(grads[bias.name]!, 0.5)));
      });
    }
    const after = lossOf(false).dataSync()[0]!;
    expect(before).toBeCloseTo(Math.log(3), 1);
    expect(after).toBeLessThan(before * 0.5);
  });
});
