import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '@xlt/plugin-api';
import { tinyEncoderConfig } from '@xlt/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createQaHead, QA_TARGETS } from './qa-head.js';

/** A tiny encoder config of any hidden size (the head reads only that and `initializerRange`); no model type's checks. */
const encoder = (hiddenSize: number) => tinyEncoderConfig('tiny', hiddenSize);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('createQaHead', () => {
  it('has HF parameter names and shapes and initialises normal(0, initializer_range) with zero bias', () => {
    const head = createQaHead({ encoder: encoder(512), labels: [], options: {} });
    expect(head.parameters).toEqual({ 'qa_outputs.weight': [2, 512], 'qa_outputs.bias': [2] });
    const init = head.init(seededRandom(1));
    const w = init['qa_outputs.weight']!;
    expect(w).toHaveLength(1024);
    const std = Math.sqrt(w.reduce((a, b) => a + b * b, 0) / w.length);
    expect(std).toBeGreaterThan(0.017);
    expect(std).toBeLessThan(0.023);
    expect([...init['qa_outputs.bias']!]).toEqual([0, 0]);
    expect(head.init(seededRandom(1))['qa_outputs.weight']).toEqual(w);
  });

  it('computes logits [B, T, 2] = hidden . W^T + b', () => {
    const head = createQaHead({ encoder: encoder(3), labels: [], options: {} });
    const hidden = tf.tensor3d([1, 2, 3, 0, 1, 0, -1, 0, 1, 2, 2, 2], [2, 2, 3]);
    const params = { 'qa_outputs.weight': tf.tensor2d([1, 0, 0, 0, 1, 1], [2, 3]), 'qa_outputs.bias': tf.tensor1d([0.5, -1]) };
    const logits = head.forward(tf, hidden, params, false);
    expect(logits.shape).toEqual([2, 2, 2]);
    expect([...logits.dataSync()]).toEqual([1.5, 4, 0.5, 0, -0.5, 0, 2.5, 3]);
  });

  it('loss is the mean of start and end cross-entropy, padding masked out', () => {
    const head = createQaHead({ encoder: encoder(3), labels: [], options: {} });
    // one row of 3 tokens, the last one padding; start logits [0, ln 3, 100 (pad)], end logits [0, 0, 100 (pad)]
    const logits = tf.tensor3d([0, 0, Math.log(3), 0, 100, 100], [1, 3, 2]);
    const targets = { [QA_TARGETS.start]: Int32Array.of(1), [QA_TARGETS.end]: Int32Array.of(0), [QA_TARGETS.mask]: Float32Array.of(1, 1, 0) };
    const loss = head.loss(tf, logits, targets).dataSync()[0]!;
    // CE(start) = -ln(3/4), CE(end) = -ln(1/2)
    expect(loss).toBeCloseTo((-Math.log(3 / 4) - Math.log(1 / 2)) / 2, 5);
    expect(() => head.loss(tf, logits, { [QA_TARGETS.start]: Int32Array.of(1) })).toThrow(/token_mask/);
  });

  it('trains: a few gradient steps on the head lower the loss', () => {
    const H = 8;
    const head = createQaHead({ encoder: encoder(H), labels: [], options: {} });
    const init = head.init(seededRandom(3));
    const weight = tf.variable(tf.tensor2d(init['qa_outputs.weight']!, [2, H]));
    const bias = tf.variable(tf.tensor1d(init['qa_outputs.bias']!));
    const random = seededRandom(4);
    const hidden = tf.tensor3d(Float32Array.from({ length: 2 * 6 * H }, () => random() * 2 - 1), [2, 6, H]);
    const targets = {
      [QA_TARGETS.start]: Int32Array.of(2, 1),
      [QA_TARGETS.end]: Int32Array.of(3, 4),
      [QA_TARGETS.mask]: Float32Array.of(1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1),
    };
    const lossOf = () => head.loss(tf, head.forward(tf, hidden, { 'qa_outputs.weight': weight, 'qa_outputs.bias': bias }, true), targets);
    const before = tf.tidy(() => lossOf().dataSync()[0]!);
    for (let step = 0; step < 20; step++) {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(lossOf);
        weight.assign(tf.sub(weight, tf.mul(grads[weight.name]!, 0.5)));
        bias.assign(tf.sub(bias, tf.mul(grads[bias.name]!, 0.5)));
      });
    }
    const after = tf.tidy(() => lossOf().dataSync()[0]!);
    expect(before).toBeGreaterThan(Math.log(5) * 0.9);
    expect(after).toBeLessThan(before * 0.7);
  });
});
