import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { taskArchitecture } from '@xlt/core';
import { seededRandom, XltError } from '@xlt/plugin-api';
import { tinyEncoderConfig } from '@xlt/core/testing';
import { NLI_LABELS } from './labels.js';
import { createNliHead } from './nli-head.js';

const H = 4;
const L = 3;

/** x W^T + b over plain arrays, the reference the TF.js head must agree with. */
function linearRef(x: number[], w: Float32Array, b: Float32Array, out: number): number[] {
  return Array.from({ length: out }, (_, o) => x.reduce((sum, xi, i) => sum + xi * w[o * x.length + i]!, b[o]!));
}

function headFor(modelType: string, options: Record<string, unknown> = {}) {
  return createNliHead({ encoder: tinyEncoderConfig(modelType, H), labels: NLI_LABELS, options });
}

function tensors(values: Record<string, Float32Array>, shapes: Readonly<Record<string, readonly number[]>>) {
  return Object.fromEntries(Object.entries(values).map(([n, v]) => [n, tf.tensor(v, [...shapes[n]!])]));
}

function withBiases(values: Record<string, Float32Array>, random: () => number) {
  // Zero biases would hide a missing bias term, so the reference tests draw them too.
  for (const name of Object.keys(values)) if (name.endsWith('.bias')) values[name] = values[name]!.map(() => random() - 0.5);
  return values;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('NLI head', () => {
  it('uses HF BertForSequenceClassification names: the pooler plus classifier [3, H]', () => {
    expect(headFor('bert').parameters).toEqual({
      'bert.pooler.dense.weight': [H, H],
      'bert.pooler.dense.bias': [H],
      'classifier.weight': [L, H],
      'classifier.bias': [L],
    });
  });

  it('uses HF RobertaClassificationHead names for xlm-roberta and roberta', () => {
    for (const type of ['xlm-roberta', 'roberta']) {
      expect(headFor(type).parameters).toEqual({
        'classifier.dense.weight': [H, H],
        'classifier.dense.bias': [H],
        'classifier.out_proj.weight': [L, H],
        'classifier.out_proj.bias': [L],
      });
    }
  });

  it('names the HF class transformers loads: <encoder class prefix>ForSequenceClassification', () => {
    expect(['bert', 'xlm-roberta', 'roberta'].map((type) => taskArchitecture(tinyEncoderConfig(type, H), headFor(type)))).toEqual([
      'BertForSequenceClassification',
      'XLMRobertaForSequenceClassification',
      'RobertaForSequenceClassification',
    ]);
  });

  it('refuses an encoder config that declares no architecture (no provider parsed it)', () => {
    expect(() => headFor('gpt2')).toThrow(XltError);
    expect(() => headFor('gpt2')).toThrow(/model_type "gpt2".*names no architecture/);
  });

  it('initialises weights normal(0, initializer_range) and biases at zero', () => {
    const head = createNliHead({ encoder: { ...tinyEncoderConfig('bert', 64), initializerRange: 0.5 }, labels: NLI_LABELS, options: {} });
    const values = head.init(seededRandom(4));
    const w = values['bert.pooler.dense.weight']!;
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(std).toBeGreaterThan(0.45);
    expect(std).toBeLessThan(0.55);
    expect(values['classifier.bias']!.every((x) => x === 0)).toBe(true);
  });

  it('BERT: tanh pooler over [CLS], then the classifier (eval mode), matching a plain reference', () => {
    const head = headFor('bert');
    const random = seededRandom(9);
    const values = withBiases(head.init(random), random);
    const hidden = Array.from({ length: 2 * 3 * H }, () => random() * 2 - 1);
    const logits = head.forward(tf, tf.tensor3d(hidden, [2, 3, H]), tensors(values, head.parameters), false);
    expect(logits.shape).toEqual([2, L]);
    const got = Array.from(logits.dataSync());
    for (let b = 0; b < 2; b++) {
      const cls = hidden.slice(b * 3 * H, b * 3 * H + H);
      const pooled = linearRef(cls, values['bert.pooler.dense.weight']!, values['bert.pooler.dense.bias']!, H).map(Math.tanh);
      const expected = linearRef(pooled, values['classifier.weight']!, values['classifier.bias']!, L);
      expected.forEach((v, i) => expect(got[b * L + i]).toBeCloseTo(v, 5));
    }
  });

  it('XLM-R: dense, tanh, out_proj over <s> (eval mode), matching a plain reference', () => {
    const head = headFor('xlm-roberta');
    const random = seededRandom(10);
    const values = withBiases(head.init(random), random);
    const hidden = Array.from({ length: 2 * 2 * H }, () => random() * 2 - 1);
    const got = Array.from(head.forward(tf, tf.tensor3d(hidden, [2, 2, H]), tensors(values, head.parameters), false).dataSync());
    for (let b = 0; b < 2; b++) {
      const first = hidden.slice(b * 2 * H, b * 2 * H + H);
      const dense = linearRef(first, values['classifier.dense.weight']!, values['classifier.dense.bias']!, H).map(Math.tanh);
      const expected = linearRef(dense, values['classifier.out_proj.weight']!, values['classifier.out_proj.bias']!, L);
      expected.forEach((v, i) => expect(got[b * L + i]).toBeCloseTo(v, 5));
    }
  });

  it('applies dropout only in training, at the configured rate, reproducibly from the seed', () => {
    const run = (options: Record<string, unknown>, training: boolean) => {
      const head = headFor('xlm-roberta', options);
      const values = head.init(seededRandom(1));
      const hidden = tf.ones([64, 1, H]) as tf.Tensor3D;
      return Array.from(head.forward(tf, hidden, tensors(values, head.parameters), training).dataSync());
    };
    expect(run({ classifierDropout: 0.5 }, false)).toEqual(run({ classifierDropout: 0 }, true));
    expect(run({ classifierDropout: 0.5, seed: 3 }, true)).not.toEqual(run({ classifierDropout: 0.5 }, false));
    expect(run({ classifierDropout: 0.5, seed: 3 }, true)).toEqual(run({ classifierDropout: 0.5, seed: 3 }, true));
  });

  it('draws dropout masks from the dropoutSeed the trainer passes', () => {
    const head = headFor('bert', { classifierDropout: 0.5 });
    const params = tensors(head.init(seededRandom(1)), head.parameters);
    const hidden = tf.ones([64, 1, H]) as tf.Tensor3D;
    const run = (seed: number) => Array.from(head.forward(tf, hidden, params, true, seed).dataSync());
    expect(run(11)).toEqual(run(11));
    expect(run(11)).not.toEqual(run(12));
    // Half the pooled units are dropped and the rest scaled by 2, so logits differ from eval mode.
    expect(run(11)).not.toEqual(Array.from(head.forward(tf, hidden, params, false).dataSync()));
  });

  it('loss is the mean cross-entropy of the gold labels', () => {
    const head = headFor('bert');
    const logits = tf.tensor2d([[2, 0, -1], [0.5, 0.5, 0.5]]);
    const loss = head.loss(tf, logits, { labels: Int32Array.from([0, 2]) }).dataSync()[0]!;
    const ce = (row: number[], gold: number) => Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - row[gold]!;
    expect(loss).toBeCloseTo((ce([2, 0, -1], 0) + ce([0.5, 0.5, 0.5], 2)) / 2, 6);
    expect(() => head.loss(tf, logits, { labels: Float32Array.from([0, 2]) })).toThrow(/int32/);
  });
});
