import { sharedPath } from '@xlt/plugin-api/testing';
import { describe, expect, it } from 'vitest';
import { posTask } from './pos-task.js';
import type { TaggedSentence } from './tagged-sentence.js';

// Official counts from shared/data/README.md and README-pos-ner-tokenizer.md (UD v2.16).
const read = (name: string) => posTask.read({ path: sharedPath('data', 'pos', name) }, {});
const words = (sentences: readonly TaggedSentence[]) => sentences.reduce((n, s) => n + s.words.length, 0);
const context = { labels: posTask.labelSpace([], {}), maxLength: 128, options: {} };

describe('POS readers on UD v2.16', () => {
  it('reads EWT train in four parts: 3,136 sentences each, 12,544 and 204,577 words in all', async () => {
    const parts = await Promise.all([1, 2, 3, 4].map((k) => read(`en_ewt-ud-train.part${k}.conllu.gz`)));
    expect(parts.map((p) => p.length)).toEqual([3136, 3136, 3136, 3136]);
    const all = parts.flat();
    expect(all).toHaveLength(12544);
    expect(words(all)).toBe(204577);
    expect(new Set(all.flatMap((s) => s.tags)).size).toBe(17);
    expect(all[0]!.comments!.some((c) => c.startsWith('# text = '))).toBe(true);
  });

  it('reads EWT dev and test with their word and UPOS counts', async () => {
    const dev = await read('en_ewt-ud-dev.conllu.gz');
    expect([dev.length, words(dev)]).toEqual([2001, 25147]);
    const counts: Record<string, number> = {};
    for (const s of dev) for (const t of s.tags) counts[t] = (counts[t] ?? 0) + 1;
    expect(counts).toMatchObject({ ADJ: 1865, NOUN: 4210, PUNCT: 3075, SYM: 81, X: 59, INTJ: 115 });
    const test = await read('en_ewt-ud-test.conllu.gz');
    expect([test.length, words(test)]).toEqual([2077, 25094]);
    // Every sentence keeps its comments, sent_id included.
    expect(test.every((s) => s.id !== undefined && s.comments!.some((c) => c.startsWith('# text')))).toBe(true);
  });

  const pud: Record<string, number> = {
    ar: 20747, de: 21332, es: 23284, fi: 15813, fr: 24726, hi: 23829, ko: 16584, ru: 19355, tr: 16881, zh: 21415,
  };
  for (const [lang, count] of Object.entries(pud)) {
    it(`reads ${lang} PUD: 1,000 sentences, ${count} words, gold vs gold = 100`, async () => {
      const sentences = await read(`${lang}_pud-ud-test.conllu.gz`);
      expect([sentences.length, words(sentences)]).toEqual([1000, count]);
      expect(posTask.score(sentences, sentences.map((s) => ({ tags: s.tags })), context)).toEqual({ accuracy: 100, unseen_labels: 0 });
    });
  }

  it('skips the German PUD multi-word tokens (zum = zu + dem)', async () => {
    const de = await read('de_pud-ud-test.conllu.gz');
    const joined = de.map((s) => s.words.join(' '));
    expect(joined.some((s) => s.includes('zu dem'))).toBe(true);
    expect(de.some((s) => s.words.includes('zum'))).toBe(false);
  });

  it('round-trips a predictions file of EWT dev', async () => {
    const dev = await read('en_ewt-ud-dev.conllu.gz');
    const predictions = dev.map((s) => ({ tags: s.tags.map((t) => (t === 'PROPN' ? 'NOUN' : t)) }));
    const text = posTask.formatPredictions(predictions, dev);
    const parsed = posTask.parsePredictions(text, 'pred.txt', dev);
    expect(posTask.score(dev, parsed, context)['accuracy']).toBeCloseTo((100 * (25147 - 1867)) / 25147, 10);
  });
});
