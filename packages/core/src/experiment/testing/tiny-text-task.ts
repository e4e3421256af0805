import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import {
  InputError,
  type BatchTargets,
  type Feature,
  type TaskHead,
  type TaskPlugin,
  readText,
  seededRandom,
} from '@xlt/plugin-api';
import { writeTinyEncoder } from '../../quickstart/tiny-encoder.js';

/** One example of {@link tinyTextTask}: a sentence and its label. */
export interface TinyTextExample {
  readonly text: string;
  readonly label: string;
}

/** A feature of {@link tinyTextTask}: the tokens of one sentence and its label index. */
export interface TinyTextFeature extends Feature {
  readonly label: number;
}

/**
 * A classification head over the first token (`classifier.weight` `[labels, H]`, `classifier.bias`), with
 * dropout drawn from the seed it is given, in HF's names so that checkpoints are ordinary model folders.
 */
function firstTokenHead(hidden: number, labels: number): TaskHead {
  return {
    parameters: { 'classifier.weight': [labels, hidden], 'classifier.bias': [labels] },
    init(random) {
      return { 'classifier.weight': Float32Array.from({ length: labels * hidden }, () => (random() - 0.5) * 0.04), 'classifier.bias': new Float32Array(labels) };
    },
    forward(tf: typeof tfjs, h: tfjs.Tensor3D, params: Readonly<Record<string, tfjs.Tensor>>, training: boolean, seed?: number) {
      return tf.tidy(() => {
        let first: tfjs.Tensor = tf.squeeze(tf.slice(h, [0, 0, 0], [-1, 1, -1]), [1]);
        if (training) first = tf.dropout(first, 0.1, undefined, seed);
        return tf.add(tf.matMul(first, tf.transpose(params['classifier.weight']!)), params['classifier.bias']!);
      });
    },
    loss(tf: typeof tfjs, logits: tfjs.Tensor, targets: BatchTargets) {
      return tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(targets.labels as Int32Array, 'int32'), labels), logits as tfjs.Tensor2D) as tfjs.Scalar);
    },
  } as TaskHead;
}

/**
 * A sentence classification task for experiment tests on a real encoder: `label<TAB>sentence` lines, features from
 * the model's tokenizer, a head over the first token, accuracy as metric, one label per line as predictions.
 */
export const tinyTextTask: TaskPlugin<TinyTextExample, TinyTextFeature, string> = {
  id: 'tiny-text',
  description: 'tiny sentence classification (experiment tests on a tiny random BERT)',
  primaryMetric: 'accuracy',
  formats: [{ id: 'tiny-text-tsv', description: 'label<TAB>sentence', detect: (path) => path.endsWith('.tsv') }],
  async read(source) {
    const out: TinyTextExample[] = [];
    (await readText(source.path)).split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      const [label, text, extra] = line.split('\t');
      if (!label || !text || extra !== undefined) throw new InputError([{ file: source.path, line: i + 1, expected: 'label<TAB>sentence', found: JSON.stringify(line.slice(0, 40)) }]);
      out.push({ label, text });
    });
    return out;
  },
  labelSpace: (train) => [...new Set(train.map((e) => e.label))].sort(),
  async featurize(examples, tokenizer, context) {
    const out: TinyTextFeature[] = [];
    for (const [i, e] of examples.entries()) {
      const [encoding] = await tokenizer.encode(e.text, undefined, { maxLength: context.maxLength });
      out.push({ exampleIndex: i, inputIds: encoding!.ids, tokenTypeIds: encoding!.typeIds, label: Math.max(0, context.labels.indexOf(e.label)) });
    }
    return out;
  },
  collate: (features) => ({ labels: Int32Array.from(features.map((f) => f.label)) }),
  createHead: ({ encoder, labels }) => firstTokenHead(encoder.hiddenSize, labels.length),
  decode(logits, _features, _examples, context) {
    return logits.map((l) => context.labels[l.indexOf(Math.max(...l))]!);
  },
  score(examples, predictions) {
    const right = examples.filter((e, i) => e.label === predictions[i]).length;
    return { accuracy: (100 * right) / examples.length };
  },
  formatPredictions: (predictions) => `${predictions.join('\n')}\n`,
  parsePredictions: (text) => text.split('\n').filter((l) => l !== ''),
};

const WORDS = ['red', 'green', 'blue', 'cat', 'dog', 'bird', 'runs', 'sits', 'sings', 'big', 'small', 'old'];

/**
 * Writes a tiny random BERT (`model/`) and `tiny-text` data whose label is told by a cue word anywhere in the
 * sentence (`yes`/`no`; targets write the cue in other "languages"), plus an experiment config over them with
 * the deterministic `tfjs-cpu` backend. Returns the config path.
 */
export async function writeTinyTextExperiment(dir: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const random = seededRandom(11);
  const cues: Record<string, [string, string]> = { en: ['yes', 'no'], xx: ['ja', 'nein'], yy: ['si', 'non'] };
  const sentence = (lang: string, label: number) => {
    const words = Array.from({ length: 3 + Math.floor(random() * 4) }, () => WORDS[Math.floor(random() * WORDS.length)]!);
    words.splice(Math.floor(random() * (words.length + 1)), 0, cues[lang]![label]!);
    return words.join(' ');
  };
  await mkdir(join(dir, 'data'), { recursive: true });
  const write = (file: string, lang: string, n: number) => writeFile(join(dir, 'data', file), Array.from({ length: n }, (_, i) => `${i % 2 ? 'pos' : 'neg'}\t${sentence(lang, i % 2)}`).join('\n') + '\n');
  await write('en-train.tsv', 'en', 24);
  await write('en-dev.tsv', 'en', 8);
  await write('xx-test.tsv', 'xx', 10);
  await write('yy-test.tsv', 'yy', 10);
  const vocabulary = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS, ...Object.values(cues).flat()];
  await writeTinyEncoder(join(dir, 'model'), vocabulary, 5);
  const config = {
    name: 'tiny-text',
    task: 'tiny-text',
    model: 'model',
    backend: 'tfjs-cpu',
    source: { language: 'en', train: 'data/en-train.tsv', dev: 'data/en-dev.tsv' },
    targets: { xx: { test: 'data/xx-test.tsv' }, yy: { test: 'data/yy-test.tsv' } },
    grid: { learningRate: [1e-3, 3e-4], batchSize: [8], epochs: [1], schedule: ['linear'], warmup: [0], seeds: [1, 2] },
    training: { maxLength: 16, evalBatchSize: 16, head: { learningRate: 1e-2, epochs: 1 } },
    checkpoints: { perEpoch: 3 },
    strategies: ['last', 'checkpoint-average', 'run-average'],
    output: 'out',
    ...overrides,
  };
  const file = join(dir, 'experiment.json');
  await writeFile(file, JSON.stringify(config, null, 2));
  return file;
}
