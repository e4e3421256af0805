import type { EncodeOptions, Encoding, Tokenizer } from '@xlt/core';

/**
 * A tiny deterministic {@link Tokenizer} for offline tests: words split on whitespace, and any word longer than
 * 4 characters cut into 4-character pieces (`Saunders` → `Saun`, `ders`). Ids: 0 pad, 1 cls, 2 sep, 3 unk, pieces
 * hashed into 4..vocabSize-1. `[CLS] pieces [SEP]`, truncated to `maxLength` tokens (specials included).
 * A word that is the empty string produces no piece (like a word of control characters in mBERT).
 */
export class FakeTokenizer implements Tokenizer {
  readonly vocabSize = 1000;
  readonly padId = 0;
  readonly clsId = 1;
  readonly sepId = 2;
  readonly unkId = 3;

  /** The pieces of one word. */
  pieces(word: string): string[] {
    const out: string[] = [];
    for (let i = 0; i < word.length; i += 4) out.push(word.slice(i, i + 4));
    return out;
  }

  /** The id of a piece: an FNV-1a hash into the vocabulary, past the four special ids. */
  pieceId(piece: string): number {
    let h = 2166136261;
    for (let i = 0; i < piece.length; i++) h = Math.imul(h ^ piece.charCodeAt(i), 16777619);
    return 4 + ((h >>> 0) % (this.vocabSize - 4));
  }

  async encode(text: string, pair?: string, options?: EncodeOptions): Promise<Encoding[]> {
    if (pair !== undefined) throw new Error('FakeTokenizer does not encode pairs');
    return this.encodeWords(text.split(/\s+/).filter((w) => w !== ''), options);
  }

  async encodeWords(words: readonly string[], options: EncodeOptions = {}): Promise<Encoding[]> {
    const ids = [this.clsId];
    const wordIds: (number | null)[] = [null];
    const offsets: [number, number][] = [[0, 0]];
    words.forEach((word, w) => {
      let at = 0;
      for (const piece of this.pieces(word)) {
        ids.push(this.pieceId(piece));
        wordIds.push(w);
        offsets.push([at, at + piece.length]);
        at += piece.length;
      }
    });
    const max = options.maxLength ?? 512;
    if (ids.length + 1 > max) {
      ids.length = max - 1;
      wordIds.length = max - 1;
      offsets.length = max - 1;
    }
    ids.push(this.sepId);
    wordIds.push(null);
    offsets.push([0, 0]);
    return [
      {
        ids,
        typeIds: ids.map(() => 0),
        offsets,
        wordIds,
        sequenceIds: wordIds.map((w) => (w === null ? null : 0)),
      },
    ];
  }

  async decode(ids: readonly number[]): Promise<string> {
    return ids.filter((id) => id > 3).map(String).join(' ');
  }
}
