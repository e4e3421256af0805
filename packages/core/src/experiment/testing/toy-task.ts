import { InputError, type TaskPlugin, readText } from '@xlt/plugin-api';

/** One toy example: a feature vector and its label. */
export interface ToyExample {
  readonly features: readonly number[];
  readonly label: string;
}

const unused = (what: string) => () => {
  throw new Error(`the toy task has no ${what}: the fake services classify feature vectors directly`);
};

/**
 * A task for testing the experiment protocol without an encoder: `label<TAB>x1 x2 ...` lines (`toy-tsv`),
 * accuracy as metric, one label per line as predictions. The fake services train a linear classifier on it.
 */
export const toyTask: TaskPlugin<ToyExample, never, string> = {
  id: 'toy',
  description: 'toy classification of feature vectors (experiment tests)',
  primaryMetric: 'accuracy',
  formats: [{ id: 'toy-tsv', description: 'label<TAB>space-separated numbers', detect: (path) => path.endsWith('.tsv') }],
  async read(source) {
    const text = await readText(source.path);
    const out: ToyExample[] = [];
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      const [label, values, extra] = line.split('\t');
      const features = (values ?? '').trim().split(/\s+/).map(Number);
      if (!label || extra !== undefined || values === undefined || features.some((x) => !Number.isFinite(x))) {
        throw new InputError([{ file: source.path, line: i + 1, expected: 'label<TAB>numbers', found: JSON.stringify(line.slice(0, 40)) }]);
      }
      out.push({ label, features });
    });
    return out;
  },
  labelSpace: (train) => [...new Set(train.map((e) => e.label))].sort(),
  featurize: unused('features'),
  collate: unused('batches'),
  createHead: unused('head'),
  decode: unused('decoder'),
  score(examples, predictions) {
    const right = examples.filter((e, i) => e.label === predictions[i]).length;
    return { accuracy: (100 * right) / examples.length, errors: examples.length - right };
  },
  formatPredictions: (predictions) => `${predictions.join('\n')}\n`,
  parsePredictions: (text) => text.split('\n').filter((l) => l !== ''),
};
