import { describe, expect, it } from 'vitest';
import { whitespaceTokenizer } from './whitespace-tokenizer.js';

describe('whitespaceTokenizer', () => {
  const tokenizer = whitespaceTokenizer();

  it('splits words into pieces of 3 characters with UTF-16 offsets, [CLS] 1 and [SEP] 2', async () => {
    const [e] = await tokenizer.encode('hello  wo😀ld');
    expect(e!.ids[0]).toBe(1);
    expect(e!.ids.at(-1)).toBe(2);
    expect(e!.offsets).toEqual([[0, 0], [0, 3], [3, 5], [7, 11], [11, 13], [0, 0]]);
    expect(e!.wordIds).toEqual([null, 0, 0, 1, 1, null]);
    expect(e!.sequenceIds).toEqual([null, 0, 0, 0, 0, null]);
    expect(e!.typeIds).toEqual([0, 0, 0, 0, 0, 0]);
    expect(e!.ids.slice(1, -1).every((id) => id >= 5 && id < 1000)).toBe(true);
    expect(await tokenizer.decode(e!.ids)).toBe('hello wo😀ld');
  });

  it('splits at punctuation with splitPunctuation, each mark a word of its own', async () => {
    const [e] = await whitespaceTokenizer({ splitPunctuation: true }).encode('Paris, 😀 né?');
    expect(e!.offsets.slice(1, -1)).toEqual([[0, 3], [3, 5], [5, 6], [7, 9], [10, 12], [12, 13]]);
    expect(e!.wordIds.slice(1, -1)).toEqual([0, 0, 1, 2, 3, 4]);
  });

  it('gives the same id to the same piece and marks continuations', async () => {
    const [a] = await tokenizer.encode('abc abcabc');
    expect(a!.ids[1]).toBe(a!.ids[2]);
    expect(a!.ids[3]).not.toBe(a!.ids[1]);
  });

  it('encodes pairs BERT-style with per-sequence word ids and offsets', async () => {
    const [e] = await tokenizer.encode('a b', 'cc');
    expect(e!.ids).toHaveLength(6);
    expect(e!.typeIds).toEqual([0, 0, 0, 0, 1, 1]);
    expect(e!.sequenceIds).toEqual([null, 0, 0, null, 1, null]);
    expect(e!.wordIds).toEqual([null, 0, 1, null, 0, null]);
    expect(e!.offsets[4]).toEqual([0, 2]);
  });

  it('truncates longest_first, only_first and only_second to maxLength', async () => {
    const long = 'a b c d e f g h';
    const [lf] = await tokenizer.encode(long, 'x y', { maxLength: 8 });
    expect(lf!.sequenceIds).toEqual([null, 0, 0, 0, null, 1, 1, null]);
    const [os] = await tokenizer.encode('x y', long, { maxLength: 8, truncation: 'only_second' });
    expect(os!.sequenceIds).toEqual([null, 0, 0, null, 1, 1, 1, null]);
    const [of] = await tokenizer.encode(long, 'x', { maxLength: 6, truncation: 'only_first' });
    expect(of!.wordIds).toEqual([null, 0, 1, null, 0, null]);
    await expect(tokenizer.encode(long, 'x y z', { maxLength: 6, truncation: 'only_second' })).rejects.toThrow(/too short/);
  });

  it('overflows into windows overlapping by stride, covering every token', async () => {
    const windows = await tokenizer.encode('q', 'a b c d e f g', { maxLength: 8, truncation: 'only_second', stride: 2 });
    expect(windows.map((w) => w.wordIds.filter((_, i) => w.sequenceIds[i] === 1))).toEqual([
      [0, 1, 2, 3],
      [2, 3, 4, 5],
      [4, 5, 6],
    ]);
    for (const w of windows) expect(w.ids.length).toBeLessThanOrEqual(8);
    await expect(tokenizer.encode('a b c d e', undefined, { maxLength: 4, stride: 2 })).rejects.toThrow(/stride/);
  });

  it('encodes pre-tokenized words with word ids and offsets within each word', async () => {
    const [e] = await tokenizer.encodeWords(['New', 'York-based', ''], { maxLength: 16 });
    expect(e!.wordIds).toEqual([null, 0, 1, 1, 1, 1, 2, null]);
    expect(e!.offsets.slice(2, 6)).toEqual([[0, 3], [3, 6], [6, 9], [9, 10]]);
    expect(e!.ids[6]).toBe(3);
  });
});
