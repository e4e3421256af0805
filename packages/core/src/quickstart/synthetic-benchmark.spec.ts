import { describe, expect, it } from 'vitest';
import { QUICKSTART_TARGETS } from './quickstart.js';
import { SyntheticBenchmark, toConllu } from './synthetic-benchmark.js';

function bench(seed: number) {
  const b = new SyntheticBenchmark(seed);
  for (const t of QUICKSTART_TARGETS) b.addLanguage(t);
  return b;
}

describe('synthetic benchmark', () => {
  it('is the same for the same seed and different for another', () => {
    expect(bench(13).sentences(20, 1, QUICKSTART_TARGETS[2])).toEqual(bench(13).sentences(20, 1, QUICKSTART_TARGETS[2]));
    expect(bench(13).vocabulary()).toEqual(bench(13).vocabulary());
    expect(bench(14).sentences(20, 1)).not.toEqual(bench(13).sentences(20, 1));
  });

  it('derives targets by remapping part of the vocabulary and, for the far one, putting the verb last', () => {
    const b = bench(13);
    const words = (s: ReturnType<typeof b.sentences>) => new Set(s.flatMap((x) => x.words));
    const source = words(b.sentences(300, 5));
    const near = words(b.sentences(300, 5, QUICKSTART_TARGETS[0]));
    const far = words(b.sentences(300, 5, QUICKSTART_TARGETS[2]));
    const shared = (w: Set<string>) => [...w].filter((x) => source.has(x)).length / w.size;
    expect(shared(near)).toBeGreaterThan(shared(far));
    expect(shared(far)).toBeGreaterThan(0.2);
    for (const s of b.sentences(50, 9, QUICKSTART_TARGETS[2])) {
      expect(s.tags.at(-1)).toBe('PUNCT');
      expect(s.tags.slice(0, -1).filter((t) => t === 'VERB')).toHaveLength(1);
      expect(['VERB', 'ADV']).toContain(s.tags.at(-2));
    }
  });

  it('writes CoNLL-U with one UPOS per word and a vocabulary that covers every word without [UNK]', () => {
    const b = bench(13);
    const sentences = b.sentences(3, 2, QUICKSTART_TARGETS[1]);
    const text = toConllu(sentences, 'x');
    const blocks = text.trim().split('\n\n');
    expect(blocks).toHaveLength(3);
    const rows = blocks[0]!.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.split('\t'));
    expect(rows.every((r) => r.length === 10)).toBe(true);
    expect(rows.map((r) => r[3])).toEqual(sentences[0]!.tags);
    const vocab = new Set(b.vocabulary());
    expect(b.vocabulary().length).toBe(vocab.size);
    // Every word is a stem in the vocabulary plus an ending that is a `##` piece (or nothing).
    for (const w of sentences.flatMap((s) => s.words)) {
      const ok = vocab.has(w) || [...Array(w.length).keys()].some((i) => i > 0 && vocab.has(w.slice(0, i)) && vocab.has(`##${w.slice(i)}`));
      expect(ok, w).toBe(true);
    }
  });
});
