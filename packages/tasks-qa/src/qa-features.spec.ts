import type { Tokenizer } from '@xlt/plugin-api';
import { describe, expect, it } from 'vitest';
import type { QaExample } from './qa-example.js';
import { contextWindows, featurizeQa, type QaFeature } from './qa-features.js';
import { whitespaceTokenizer } from '@xlt/plugin-api/testing';

/** BERT-like for QA: words also cut at punctuation (`it?` → `it` `?`), pieces of up to 4 characters. */
const qaTokenizer = () => whitespaceTokenizer({ pieceLength: 4, splitPunctuation: true });

const example = (context: string, answer: string, question = 'Where is it?', id = 'q'): QaExample => {
  const answerStart = context.indexOf(answer);
  if (answerStart < 0) throw new Error('bad fixture');
  return { id, question, context, answers: [{ text: answer, answerStart }], benchmark: 'squad' };
};

const spanText = (f: QaFeature, e: QaExample) => e.context.slice(f.offsets[f.startPosition]![0], f.offsets[f.endPosition]![1]);

describe('contextWindows', () => {
  it('starts windows every docStride tokens until one reaches the end', () => {
    expect(contextWindows(10, 4, 3)).toEqual([[0, 4], [3, 4], [6, 4]]);
    expect(contextWindows(8, 4, 4)).toEqual([[0, 4], [4, 4]]);
    expect(contextWindows(3, 4, 2)).toEqual([[0, 3]]);
    expect(contextWindows(0, 4, 2)).toEqual([[0, 0]]);
    // a stride longer than the window still advances by at most the window
    expect(contextWindows(6, 2, 5)).toEqual([[0, 2], [2, 2], [4, 2]]);
  });
});

describe('featurizeQa', () => {
  it('builds [CLS] question [SEP] context [SEP] with BERT type ids and the answer span', async () => {
    const e = example('The tower is in Paris, France.', 'Paris');
    const [f, ...rest] = await featurizeQa([e], qaTokenizer());
    expect(rest).toHaveLength(0);
    const tok = qaTokenizer();
    const [pair] = await tok.encode(e.question, e.context);
    expect(f!.inputIds).toEqual(pair!.ids);
    expect(f!.tokenTypeIds).toEqual(pair!.typeIds);
    expect(f!.offsets.slice(0, 6)).toEqual([null, null, null, null, null, null]); // CLS, 4 question tokens, SEP
    expect(spanText(f!, e)).toBe('Paris');
    expect(f!.maxContext.filter(Boolean)).toHaveLength(f!.offsets.filter((o) => o !== null).length);
  });

  it('windows a long context with docStride and points windows without the answer at CLS', async () => {
    const words = Array.from({ length: 40 }, (_, i) => `w${i}`);
    const e = example(words.join(' '), 'w21 w22', 'q?');
    // question "q?" = 2 tokens; 4 specials... [CLS] q ? [SEP] ctx [SEP]: room = 12 - 4 - 1 = 7
    const features = await featurizeQa([e], qaTokenizer(), { maxLength: 12, docStride: 3, maxQueryLength: 64 });
    const spans = contextWindows(40, 7, 3);
    expect(features).toHaveLength(spans.length);
    features.forEach((f, w) => {
      expect(f.windowIndex).toBe(w);
      expect(f.inputIds.length).toBeLessThanOrEqual(12);
      const [start, length] = spans[w]!;
      expect(e.context.slice(f.offsets[4]![0], f.offsets[4]![1])).toBe(`w${start}`);
      const inside = start <= 21 && 22 < start + length;
      if (inside) expect(spanText(f, e)).toBe('w21 w22');
      else expect([f.startPosition, f.endPosition]).toEqual([0, 0]);
    });
    expect(features.filter((f) => f.startPosition > 0).length).toBeGreaterThan(1);
    // every context token is max-context in exactly one window
    const owners = new Map<number, number>();
    features.forEach((f) => f.offsets.forEach((o, i) => o && f.maxContext[i] && owners.set(o[0], (owners.get(o[0]) ?? 0) + 1)));
    expect(owners.size).toBe(40);
    expect([...owners.values()].every((n) => n === 1)).toBe(true);
  });

  it('cuts the question to maxQueryLength tokens', async () => {
    const e = example('Paris is nice.', 'Paris', 'one two three four five six?');
    const [f] = await featurizeQa([e], qaTokenizer(), { maxLength: 384, docStride: 128, maxQueryLength: 3 });
    expect(f!.offsets.findIndex((o) => o !== null)).toBe(1 + 3 + 1);
    expect(spanText(f!, e)).toBe('Paris');
  });

  it('keeps UTF-16 offsets right after U+FEFF and characters outside the BMP', async () => {
    const e = example('\uFEFF😀 😀 Paris 😀', 'Paris');
    expect(e.answers[0]!.answerStart).toBe(7);
    const [f] = await featurizeQa([e], qaTokenizer());
    expect(spanText(f!, e)).toBe('Paris');
  });

  it('covers an answer that starts or ends inside a token with the whole token', async () => {
    const e = example('abcdefgh xyz', 'cdef');
    const [f] = await featurizeQa([e], qaTokenizer());
    expect(spanText(f!, e)).toBe('abcdefgh');
  });

  it('fails clearly when maxLength leaves no room or the tokenizer cut the context', async () => {
    const e = example('Paris is nice.', 'Paris', 'a b c d e f');
    await expect(featurizeQa([e], qaTokenizer(), { maxLength: 9, docStride: 2, maxQueryLength: 64 })).rejects.toThrow(/leaves no room/);
    const inner = qaTokenizer();
    const capped: Tokenizer = { ...inner, encode: (t, p) => inner.encode(t, p, { maxLength: 12, truncation: 'only_second' }) };
    await expect(featurizeQa([example('Paris is a big city in France.', 'France')], capped)).rejects.toThrow(/only up to character/);
  });
});
