import type * as tfjs from '@tensorflow/tfjs';
import { join } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, type Feature, type TaskPlugin, readText } from '@xlt/plugin-api';
import { describeTaskConformance } from './task-conformance.js';
import { whitespaceTokenizer } from '@xlt/plugin-api/testing';

interface Labelled {
  readonly text: string;
  readonly label: string;
}
interface LabelledFeature extends Feature {
  readonly label: number;
}

/** A minimal single-text classification task (`label<TAB>text` lines), enough to run the suite inside core. */
const toyTask: TaskPlugin<Labelled, LabelledFeature, string> = {
  id: 'toy-classification',
  description: 'label<TAB>text lines, a linear head over [CLS]',
  primaryMetric: 'accuracy',
  formats: [{ id: 'toy-tsv', description: 'label<TAB>text', detect: (_path, head) => /^[^\t\n]+\t/.test(head) }],
  async read(source) {
    return (await readText(source.path)).split('\n').filter(Boolean).map((line, i) => {
      const [label, text] = line.split('\t');
      if (!text) throw new InputError([{ file: source.path, line: i + 1, expected: 'label<TAB>text', found: JSON.stringify(line) }]);
      return { label: label!, text };
    });
  },
  labelSpace: (train) => [...new Set(train.map((e) => e.label))].sort(),
  async featurize(examples, tokenizer, context) {
    const out: LabelledFeature[] = [];
    for (const [exampleIndex, e] of examples.entries()) {
      const [enc] = await tokenizer.encode(e.text, undefined, { maxLength: context.maxLength });
      out.push({ exampleIndex, inputIds: enc!.ids, tokenTypeIds: enc!.typeIds, label: context.labels.indexOf(e.label) });
    }
    return out;
  },
  collate: (features) => ({ labels: Int32Array.from(features, (f) => f.label) }),
  createHead({ encoder, labels }) {
    const shape = [labels.length, encoder.hiddenSize];
    return {
      parameters: { 'classifier.weight': shape, 'classifier.bias': [labels.length] },
      architectureSuffix: 'ForSequenceClassification',
      init: (random) => ({
        'classifier.weight': Float32Array.from({ length: shape[0]! * shape[1]! }, () => (random() - 0.5) * 0.04),
        'classifier.bias': new Float32Array(labels.length),
      }),
      forward(tf: typeof tfjs, hidden, params) {
        const [b, , h] = hidden.shape;
        const cls = tf.reshape(tf.slice(hidden, [0, 0, 0], [b, 1, h]), [b, h]) as tfjs.Tensor2D;
        return tf.add(tf.matMul(cls, params['classifier.weight'] as tfjs.Tensor2D, false, true), params['classifier.bias']!);
      },
      loss(tf: typeof tfjs, logits, targets) {
        const oneHot = tf.oneHot(tf.tensor1d(targets.labels as Int32Array, 'int32'), labels.length);
        return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), -1))) as tfjs.Scalar;
      },
    };
  },
  decode: (logits, features, _examples, context) =>
    features.map((_, i) => context.labels[logits[i]!.indexOf(Math.max(...logits[i]!))]!),
  score: (examples, predictions) => ({
    accuracy: (100 * examples.filter((e, i) => e.label === predictions[i]).length) / examples.length,
  }),
  formatPredictions: (predictions) => predictions.map((p) => `${p}\n`).join(''),
  parsePredictions(text, file, examples) {
    const lines = text.split('\n').filter(Boolean);
    if (lines.length !== examples.length) throw new InputError([{ file, expected: `${examples.length} lines`, found: `${lines.length}` }]);
    return lines;
  },
};

const dir = mkdtempSync(join(tmpdir(), 'xlt-conformance-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'train.tsv'), 'pos\ta fine sunny day\nneg\ta cold grey morning with rain\npos\twarm light\n');
writeFileSync(join(dir, 'bad.tsv'), 'pos\tgood\nno text here\n');

describeTaskConformance(toyTask, {
  runner: { describe, it, expect, beforeAll },
  files: [{ path: join(dir, 'train.tsv') }],
  tokenizer: whitespaceTokenizer(),
  gold: (examples) => examples.map((e) => e.label),
  maxLength: 6,
  modelTypes: ['bert'],
  invalidFiles: [{ source: { path: join(dir, 'bad.tsv') }, line: 2 }],
});
