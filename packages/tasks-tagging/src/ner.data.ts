import { sharedPath } from '@xlt/plugin-api/testing';
import { describe, expect, it } from 'vitest';
import { nerTask } from './ner-task.js';
import { seqevalScores } from './seqeval.js';
import type { TaggedSentence } from './tagged-sentence.js';

// Official counts from shared/data/README.md and README-pos-ner-tokenizer.md.
const read = (...parts: string[]) => nerTask.read({ path: sharedPath('data', 'ner', ...parts) }, {});
const tokens = (sentences: readonly TaggedSentence[]) => sentences.reduce((n, s) => n + s.words.length, 0);
const bCount = (sentences: readonly TaggedSentence[], type: string) =>
  sentences.reduce((n, s) => n + s.tags.filter((t) => t === `B-${type}`).length, 0);

function goldVsGold(sentences: readonly TaggedSentence[]) {
  const labels = nerTask.labelSpace(sentences, {});
  return nerTask.score(sentences, sentences.map((s) => ({ tags: s.tags })), { labels, maxLength: 128, options: {} });
}

describe('NER readers on WikiANN', () => {
  const en: [string, number, number, [number, number, number]][] = [
    ['train.gz', 20000, 160394, [9164, 9422, 9345]],
    ['dev.gz', 10000, 80536, [4635, 4677, 4834]],
    ['test.gz', 10000, 80326, [4556, 4745, 4657]],
  ];
  for (const [file, sentences, count, [per, org, loc]] of en) {
    it(`reads en/${file}: ${sentences} sentences, ${count} tokens, prefixes stripped, gold vs gold = 100`, async () => {
      const data = await read('wikiann', 'en', file);
      expect([data.length, tokens(data)]).toEqual([sentences, count]);
      expect([bCount(data, 'PER'), bCount(data, 'ORG'), bCount(data, 'LOC')]).toEqual([per, org, loc]);
      expect(data.some((s) => s.words.some((w) => w.startsWith('en:')))).toBe(false);
      const m = goldVsGold(data);
      expect([m['f1'], m['strict_f1'], m['f1_PER'], m['f1_ORG'], m['f1_LOC']]).toEqual([100, 100, 100, 100, 100]);
    });
  }

  it('reads the first sentence of en/train as in the README', async () => {
    const [first] = await read('wikiann', 'en', 'train.gz');
    expect(first!.words.slice(0, 3)).toEqual(['R.H.', 'Saunders', '(']);
    expect(first!.tags.slice(0, 3)).toEqual(['B-ORG', 'I-ORG', 'O']);
    expect(nerTask.labelSpace([first!], {})[0]).toBe('O');
  });

  for (const lang of ['de', 'fr', 'nl']) {
    it(`reads ${lang}/test.gz: 10,000 sentences, ${lang}: prefixes stripped`, async () => {
      const data = await read('wikiann', lang, 'test.gz');
      expect(data).toHaveLength(10000);
      expect(data.some((s) => s.words.some((w) => w.startsWith(`${lang}:`)))).toBe(false);
      expect(goldVsGold(data)['f1']).toBe(100);
    });
  }

  const small: [string, number, number, [number, number, number]][] = [
    ['sw', 1000, 5786, [432, 374, 388]],
    ['yo', 100, 503, [43, 29, 39]],
    ['ig', 100, 649, [34, 34, 38]],
    ['rw', 100, 426, [35, 33, 36]],
    ['am', 100, 660, [30, 37, 44]],
  ];
  for (const [lang, sentences, count, [per, org, loc]] of small) {
    it(`reads ${lang}/test.txt.gz (space-separated): ${sentences} sentences, ${count} tokens`, async () => {
      const data = await read('wikiann', lang, 'test.txt.gz');
      expect([data.length, tokens(data)]).toEqual([sentences, count]);
      expect([bCount(data, 'PER'), bCount(data, 'ORG'), bCount(data, 'LOC')]).toEqual([per, org, loc]);
      expect(goldVsGold(data)['f1']).toBe(100);
    });
  }
});

describe('NER readers on MasakhaNER 1.0', () => {
  const files: [string, string, number, number][] = [
    ['swa', 'test', 604, 15409], ['swa', 'dev', 300, 7263],
    ['yor', 'test', 645, 19896], ['yor', 'dev', 305, 7115],
    ['ibo', 'test', 638, 12645], ['ibo', 'dev', 320, 6304],
    ['kin', 'test', 605, 14196], ['kin', 'dev', 302, 6711],
  ];
  for (const [lang, split, sentences, count] of files) {
    it(`reads ${lang}/${split}: ${sentences} sentences, ${count} tokens, gold vs gold = 100`, async () => {
      const data = await read('masakhaner', lang, `${split}.txt.gz`);
      expect([data.length, tokens(data)]).toEqual([sentences, count]);
      expect(nerTask.labelSpace(data, {})).toEqual(['O', 'B-DATE', 'I-DATE', 'B-LOC', 'I-LOC', 'B-ORG', 'I-ORG', 'B-PER', 'I-PER']);
      const m = goldVsGold(data);
      expect([m['f1'], m['strict_f1']]).toEqual([100, 100]);
    });
  }

  it('reads the yor test sentence that opens with I-DATE; default mode counts it as a DATE entity, strict does not', async () => {
    const data = await read('masakhaner', 'yor', 'test.txt.gz');
    const opening = data.filter((s) => s.tags[0]!.startsWith('I-'));
    expect(opening).toHaveLength(1);
    expect(opening[0]!.line).toBe(15604);
    expect(opening[0]!.words[0]).toBe('osù');
    expect(opening[0]!.tags[0]).toBe('I-DATE');
    const gold = data.map((s) => s.tags);
    expect(seqevalScores(gold, gold).perType['DATE']!.support).toBe(187 + 1);
    expect(seqevalScores(gold, gold, 'strict').perType['DATE']!.support).toBe(187);
    expect(bCount(data, 'PER')).toBe(250);
  });

  it('scores WikiANN-trained labels on MasakhaNER: DATE is unseen and counted as missed', async () => {
    const labels = nerTask.labelSpace(await read('wikiann', 'en', 'dev.gz'), {});
    const swa = await read('masakhaner', 'swa', 'test.txt.gz');
    // A "model" that is right on PER/ORG/LOC and never predicts DATE.
    const predictions = swa.map((s) => ({ tags: s.tags.map((t) => (t.endsWith('-DATE') ? 'O' : t)) }));
    const m = nerTask.score(swa, predictions, { labels, maxLength: 128, options: {} });
    const dateWords = swa.reduce((n, s) => n + s.tags.filter((t) => t.endsWith('-DATE')).length, 0);
    expect(m['unseen_labels']).toBe(dateWords);
    expect(m['precision']).toBe(100);
    const gold = 333 + 221 + 463 + 162;
    expect(m['recall']).toBeCloseTo((100 * (gold - 162)) / gold, 10);
    expect(m['f1_DATE']).toBe(0);
  });
});
