import { describe, expect, it } from 'vitest';
import { decodeAnswers, nBestAnswers } from './nbest.js';
import type { QaExample } from './qa-example.js';
import { featurizeQa, type QaFeature } from './qa-features.js';
import { whitespaceTokenizer } from '@xlt/plugin-api/testing';

/** BERT-like for QA: words also cut at punctuation (`it?` → `it` `?`), pieces of up to 4 characters. */
const qaTokenizer = () => whitespaceTokenizer({ pieceLength: 4, splitPunctuation: true });

const example = (context: string, answer: string, id = 'q'): QaExample => ({
  id,
  question: 'q?',
  context,
  answers: [{ text: answer, answerStart: context.indexOf(answer) }],
  benchmark: 'squad',
});

/** Logits of one window: -100 everywhere except the given start and end scores. */
function logitsFor(f: QaFeature, starts: Record<number, number>, ends: Record<number, number>): Float32Array {
  const row = new Float32Array(2 * f.inputIds.length).fill(-100);
  for (const [t, v] of Object.entries(starts)) row[2 * Number(t)] = v;
  for (const [t, v] of Object.entries(ends)) row[2 * Number(t) + 1] = v;
  return row;
}

/** Index of the token of `f` whose context text is `word`. */
const tokenOf = (f: QaFeature, e: QaExample, word: string) => f.offsets.findIndex((o) => o !== null && e.context.slice(o[0], o[1]) === word);

describe('nBestAnswers / decodeAnswers', () => {
  it('returns the context slice of the best start/end pair', async () => {
    const e = example('The tower is in Paris , France .', 'Paris , France');
    const [f] = await featurizeQa([e], qaTokenizer());
    const row = logitsFor(f!, { [f!.startPosition]: 5 }, { [f!.endPosition]: 5 });
    expect(decodeAnswers([row], [f!], [e])).toEqual(['Paris , France']);
  });

  it('skips question tokens, end before start and too-long spans, taking the next best', async () => {
    const e = example('a b c d e f g h', 'c');
    const [f] = await featurizeQa([e], qaTokenizer());
    const [c, d, g, b] = ['c', 'd', 'g', 'b'].map((w) => tokenOf(f!, e, w)) as [number, number, number, number];
    // best start is on a question token (index 1); best end (b) lies before the start c; c..g is 5 tokens
    const row = logitsFor(f!, { 1: 50, [c]: 10, [d]: 1 }, { 1: 50, [b]: 40, [g]: 30, [d]: 5 });
    const nbest = nBestAnswers([row], [f!], [e], { nBest: 20, maxAnswerLength: 3 })[0]!;
    expect(nbest[0]).toMatchObject({ text: 'c d', score: 15 });
    expect(nbest.map((n) => n.text)).not.toContain('c d e f g');
    expect(nBestAnswers([row], [f!], [e], { nBest: 20, maxAnswerLength: 5 })[0]![0]!.text).toBe('c d e f g');
  });

  it('ranks candidates of all windows of a question together and keeps one per text', async () => {
    const words = Array.from({ length: 30 }, (_, i) => `w${i}`);
    const e = example(words.join(' '), 'w25');
    const features = await featurizeQa([e], qaTokenizer(), { maxLength: 14, docStride: 5, maxQueryLength: 64 });
    expect(features.length).toBeGreaterThan(2);
    const rows = features.map((f) => {
      const t5 = tokenOf(f, e, 'w5');
      const t25 = tokenOf(f, e, 'w25');
      const starts: Record<number, number> = {};
      const ends: Record<number, number> = {};
      if (t5 >= 0) (starts[t5] = 2), (ends[t5] = 2);
      if (t25 >= 0) (starts[t25] = 3), (ends[t25] = 3);
      return logitsFor(f, starts, ends);
    });
    const nbest = nBestAnswers(rows, features, [e])[0]!;
    expect(nbest[0]!.text).toBe('w25');
    expect(nbest.filter((n) => n.text === 'w25')).toHaveLength(1);
    expect(nbest[1]!.text).toBe('w5');
  });

  it('starts answers only where the window gives the token its maximum context', async () => {
    const words = Array.from({ length: 12 }, (_, i) => `w${i}`);
    const e = example(words.join(' '), 'w4');
    const features = await featurizeQa([e], qaTokenizer(), { maxLength: 10, docStride: 2, maxQueryLength: 64 });
    // w4 is in windows 0, 1 and 2 (room 5, stride 2); window 1 has it in the middle
    const owner = features.findIndex((f) => f.maxContext[tokenOf(f, e, 'w4')]);
    expect(owner).toBe(1);
    const other = features.findIndex((f, i) => i !== owner && tokenOf(f, e, 'w4') >= 0);
    expect(owner).toBeGreaterThanOrEqual(0);
    expect(other).toBeGreaterThanOrEqual(0);
    const rows = features.map((f, i) => {
      const t = tokenOf(f, e, 'w4');
      return logitsFor(f, t >= 0 ? { [t]: i === other ? 9 : 1 } : {}, t >= 0 ? { [t]: i === other ? 9 : 1 } : {});
    });
    const best = nBestAnswers(rows, features, [e])[0]![0]!;
    expect(best.featureIndex).toBe(owner);
  });

  it('answers "" when no pair qualifies and rejects logits of the wrong size', async () => {
    const e = example('a b', 'a');
    const [f] = await featurizeQa([e], qaTokenizer());
    expect(decodeAnswers([logitsFor(f!, {}, {})], [f!], [e], { nBest: 1, maxAnswerLength: 30 })).toEqual(['']);
    expect(() => decodeAnswers([new Float32Array(3)], [f!], [e])).toThrow(/expected 14 \(\[7, 2\], padding removed\)/);
  });
});
