import { describe, expect, it } from 'vitest';
import { InputError, XltError, type TaskContext } from '@xlt/plugin-api';
import { whitespaceTokenizer } from '@xlt/plugin-api/testing';
import { accuracy } from './accuracy.js';
import { NLI_LABELS } from './labels.js';
import type { NliExample } from './nli-example.js';
import { nliTask } from './nli-task.js';

const context: TaskContext = { labels: NLI_LABELS, maxLength: 16, options: {} };
const examples: NliExample[] = [
  { premise: 'a b c', hypothesis: 'd e', label: 'neutral', file: 'f', line: 1 },
  { premise: 'x', hypothesis: 'y', label: 'contradiction', file: 'f', line: 2 },
  { premise: 'p', hypothesis: 'q', label: 'entailment', file: 'f', line: 3 },
];

describe('nli task', () => {
  it('has the fixed label space in HF order whatever the data', () => {
    expect(nliTask.labelSpace([], {})).toEqual(['entailment', 'neutral', 'contradiction']);
    expect(nliTask.labelSpace(examples, {})).toEqual(['entailment', 'neutral', 'contradiction']);
  });

  it('featurizes a pair as [CLS] premise [SEP] hypothesis [SEP] with segment ids and the label index', async () => {
    const [feature] = await nliTask.featurize(examples.slice(0, 1), whitespaceTokenizer(), context);
    expect(feature!.inputIds).toHaveLength(8);
    expect(feature!.inputIds[0]).toBe(1);
    expect(feature!.inputIds[4]).toBe(2);
    expect(feature!.tokenTypeIds).toEqual([0, 0, 0, 0, 0, 1, 1, 1]);
    expect(feature!.label).toBe(1);
    expect(nliTask.collate([feature!], 8, context)).toEqual({ labels: Int32Array.from([1]) });
  });

  it('truncates long pairs to maxLength', async () => {
    const long = { ...examples[0]!, premise: 'word '.repeat(40), hypothesis: 'other '.repeat(40) };
    const [feature] = await nliTask.featurize([long], whitespaceTokenizer(), context);
    expect(feature!.inputIds).toHaveLength(16);
  });

  it('decodes by argmax into labels in gold order, first index on ties', () => {
    const features = [2, 0, 1].map((exampleIndex) => ({ exampleIndex, inputIds: [1], tokenTypeIds: [0], label: 0 }));
    const logits = [Float32Array.from([5, 1, 0]), Float32Array.from([0, 0, 3]), Float32Array.from([1, 1, 1])];
    expect(nliTask.decode(logits, features, examples, context)).toEqual(['contradiction', 'entailment', 'entailment']);
    expect(() => nliTask.decode(logits.slice(0, 2), features.slice(0, 2), examples, context)).toThrow(XltError);
  });

  it('scores accuracy in percent', () => {
    expect(nliTask.score(examples, ['neutral', 'entailment', 'entailment'], context)).toEqual({ accuracy: (100 * 2) / 3 });
    expect(accuracy(['a', 'b', 'c', 'd'], ['a', 'x', 'c', 'x'])).toBe(50);
    expect(() => accuracy(['a'], [])).toThrow(/1 gold labels/);
    expect(() => accuracy([], [])).toThrow(/empty/);
  });

  it('writes one label per line and reads any label spelling back', () => {
    const text = nliTask.formatPredictions(['neutral', 'contradiction', 'entailment'], examples);
    expect(text).toBe('neutral\ncontradiction\nentailment\n');
    expect(nliTask.parsePredictions('1\r\n2\r\nEntailment\r\n', 'p.txt', examples)).toEqual(['neutral', 'contradiction', 'entailment']);
  });

  it('refuses a predictions file of the wrong length or with an unknown label, naming the place', () => {
    expect(() => nliTask.parsePredictions('neutral\n', 'p.txt', examples)).toThrow(/p.txt: expected 3 lines.*found 1 lines/);
    let error: unknown;
    try {
      nliTask.parsePredictions('neutral\nyes\nneutral\n', 'p.txt', examples);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toContain('p.txt:2: expected an NLI label');
  });

  it('validates its options with zod', () => {
    expect(nliTask.optionsSchema!.safeParse({ classifierDropout: 0.2 }).success).toBe(true);
    expect(nliTask.optionsSchema!.safeParse({ classifierDropout: 2 }).success).toBe(false);
  });
});
