import { describe, expect, it } from 'vitest';
import { isNerTag } from './labels.js';
import { formatTagPredictions, parseTagPredictions } from './predictions.js';
import type { TaggedSentence } from './tagged-sentence.js';
import { errorOf } from './input-error.testing.js';

const gold: TaggedSentence[] = [
  { words: ['EU', 'rejects'], tags: ['B-ORG', 'O'], file: 'gold.txt', line: 1 },
  { words: ['Peter'], tags: ['B-PER'], file: 'gold.txt', line: 4 },
];
const parse = (text: string) => parseTagPredictions(text, 'pred.txt', gold, isNerTag, 'a tag O, B-TYPE or I-TYPE');

describe('predictions files', () => {
  it('round-trips: one tag per line, a blank line after each sentence', () => {
    const predictions = [{ tags: ['B-ORG', 'O'] }, { tags: ['O'] }];
    const text = formatTagPredictions(predictions, gold);
    expect(text).toBe('B-ORG\nO\n\nO\n\n');
    expect(parse(text)).toEqual(predictions);
  });

  it('reads word<TAB>tag lines, CRLF and a missing final newline', () => {
    expect(parse('EU\tB-ORG\r\nrejects\tO\r\n\r\nPeter\tB-PER')).toEqual([{ tags: ['B-ORG', 'O'] }, { tags: ['B-PER'] }]);
  });

  it('names the line of a sentence with the wrong number of tags, and the gold sentence', () => {
    const error = errorOf(() => parse('B-ORG\n\nO\n\n'));
    expect(error.issues[0]).toMatchObject({ file: 'pred.txt', line: 1 });
    expect(error.issues[0]!.expected).toContain('2 tags for sentence 1 (the gold sentence at gold.txt:1)');
  });

  it('reports too many or too few sentences', () => {
    const extra = errorOf(() => parse('B-ORG\nO\n\nO\n\nO\n'));
    expect(extra.issues[0]).toMatchObject({ line: 6, expected: '2 sentences, one per gold sentence, separated by blank lines' });
    expect(extra.issues[0]!.found).toMatch(/^3/);
    const missing = errorOf(() => parse('B-ORG\nO\n'));
    expect(missing.issues[0]!.found).toBe('1');
  });

  it('rejects malformed tags with their line', () => {
    const error = errorOf(() => parse('B-ORG\nPER\n\nO\n'));
    expect(error.issues[0]).toMatchObject({ line: 2, found: '"PER"' });
  });

  it('refuses to format predictions that do not match the gold shape', () => {
    expect(() => formatTagPredictions([{ tags: ['O'] }, { tags: ['O'] }], gold)).toThrow(/gold\.txt:1 has 2 words/);
  });
});
