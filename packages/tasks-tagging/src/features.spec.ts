import { describe, expect, it } from 'vitest';
import { collateTagging, decodeTagging, featurizeTagging, IGNORE_LABEL } from './features.js';
import type { TaggedSentence } from './tagged-sentence.js';
import { whitespaceTokenizer } from '@xlt/plugin-api/testing';

const labels = ['O', 'B-PER', 'I-PER'];
const sentence = (words: string[], tags: string[]): TaggedSentence => ({ words, tags, file: 'f', line: 1 });
const tokenizer = whitespaceTokenizer({ pieceLength: 4 });

describe('featurizeTagging', () => {
  const example = sentence(['Mr', 'Saunders', 'spoke'], ['O', 'B-PER', 'O']);

  it('labels the first sub-word of each word and ignores the rest', async () => {
    // [CLS] Mr Saun ders spok e [SEP]
    const [f] = await featurizeTagging([example], tokenizer, { labels, maxLength: 32, options: {} });
    expect(f!.inputIds).toHaveLength(7);
    expect(f!.labels).toEqual([IGNORE_LABEL, 0, 1, IGNORE_LABEL, 0, IGNORE_LABEL, IGNORE_LABEL]);
    expect(f!.firstTokens).toEqual([1, 2, 4]);
    expect(f!.tokenTypeIds).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });

  it('labels every sub-word with labelAllSubwords', async () => {
    const [f] = await featurizeTagging([example], tokenizer, { labels, maxLength: 32, options: { labelAllSubwords: true } });
    expect(f!.labels).toEqual([IGNORE_LABEL, 0, 1, 1, 0, 0, IGNORE_LABEL]);
  });

  it('marks words cut off by truncation and ignores gold tags outside the label space', async () => {
    const ex = sentence(['a', 'b', 'Wednesday', 'c'], ['O', 'B-DATE', 'I-PER', 'O']);
    // [CLS] a b Wedn [SEP] at maxLength 5: "nesd", "ay" and "c" are cut off
    const [f] = await featurizeTagging([ex], tokenizer, { labels, maxLength: 5, options: {} });
    expect(f!.inputIds).toHaveLength(5);
    expect(f!.firstTokens).toEqual([1, 2, 3, -1]);
    expect(f!.labels).toEqual([IGNORE_LABEL, 0, IGNORE_LABEL, 2, IGNORE_LABEL]);
  });

  it('rejects bad options with the path', async () => {
    await expect(featurizeTagging([example], tokenizer, { labels, maxLength: 8, options: { labelAllSubwords: 'yes' } })).rejects.toThrow(
      /options\.labelAllSubwords/,
    );
  });
});

describe('collateTagging', () => {
  it('pads labels with -100 to the sequence length', async () => {
    const features = await featurizeTagging(
      [sentence(['Mr'], ['O']), sentence(['Saunders'], ['B-PER'])],
      tokenizer,
      { labels, maxLength: 16, options: {} },
    );
    const { labels: collated } = collateTagging(features, 5);
    expect(Array.from(collated!)).toEqual([-100, 0, -100, -100, -100, -100, 1, -100, -100, -100]);
    expect(collated).toBeInstanceOf(Int32Array);
  });
});

describe('decodeTagging', () => {
  it('takes the argmax at each first sub-word and the fallback for truncated words', async () => {
    const ex = sentence(['Mr', 'Saunders', 'x'], ['O', 'B-PER', 'O']);
    const [f] = await featurizeTagging([ex], tokenizer, { labels, maxLength: 4, options: {} });
    // tokens: [CLS] Mr Saun [SEP]; "ders" and "x" cut off, so word 2 has no sub-word
    expect(f!.firstTokens).toEqual([1, 2, -1]);
    const logits = new Float32Array([
      9, 0, 0, // CLS (ignored)
      0, 5, 1, // Mr -> B-PER
      0, 2, 2, // Saun -> tie: first maximum, B-PER
      9, 9, 9, // SEP
    ]);
    const [p] = decodeTagging([logits], [f!], [ex], labels, 'O');
    expect(p).toEqual({ tags: ['B-PER', 'B-PER', 'O'], truncatedWords: 1 });
  });

  it('puts predictions back in example order', async () => {
    const exs = [sentence(['a'], ['O']), sentence(['b'], ['O'])];
    const fs = await featurizeTagging(exs, tokenizer, { labels, maxLength: 8, options: {} });
    const row = (best: number) => new Float32Array([0, 0, 0, ...[0, 1, 2].map((l) => (l === best ? 1 : 0)), 0, 0, 0]);
    const out = decodeTagging([row(2), row(1)], [fs[1]!, fs[0]!], exs, labels, 'O');
    expect(out.map((p) => p.tags)).toEqual([['B-PER'], ['I-PER']]);
  });
});

describe('tagging options at run time', () => {
  it('ignores keys that belong to other components but checks its own', async () => {
    const [f] = await featurizeTagging([sentence(['ab'], ['O'])], tokenizer, { labels, maxLength: 8, options: { seed: 3, labelAllSubwords: true } });
    expect(f!.labels).toEqual([IGNORE_LABEL, 0, IGNORE_LABEL]);
  });
});
