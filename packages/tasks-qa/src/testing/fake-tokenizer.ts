import type { EncodeOptions, Encoding, Tokenizer } from '@xlt/core';

/** Test helper: a tokenizer without a vocabulary file, BERT-like in layout, with exact UTF-16 offsets. */
export interface FakeTokenizerOptions {
  /** Longest run of letters/digits in one token; longer runs become several tokens, like word pieces (4). */
  readonly pieceLength?: number;
}

interface Piece {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly word: number;
}

const PAD = 0;
const CLS = 1;
const SEP = 2;
const UNK = 3;
const VOCAB = 1000;

/**
 * A fake core {@link Tokenizer} for offline tests: runs of letters and digits (cut into pieces of at most
 * `pieceLength` code points) and single other non-space characters are tokens; pairs are
 * `[CLS] a [SEP] b [SEP]` with BERT's type ids; truncation and stride windows follow HF `tokenizers`.
 */
export function fakeTokenizer(options: FakeTokenizerOptions = {}): Tokenizer & { readonly calls: number } {
  const pieceLength = options.pieceLength ?? 4;
  const names = new Map<number, string>([[CLS, '[CLS]'], [SEP, '[SEP]'], [PAD, '[PAD]'], [UNK, '[UNK]']]);
  let calls = 0;
  const idOf = (text: string) => {
    let h = 2166136261;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
    const id = 10 + (h % (VOCAB - 10));
    names.set(id, text);
    return id;
  };
  const pieces = (text: string, wordBase = 0): Piece[] => {
    const out: Piece[] = [];
    let word = wordBase;
    for (const m of text.matchAll(/[\p{L}\p{N}\p{M}]+|[^\s\p{L}\p{N}\p{M}]/gu)) {
      let at = m.index;
      const chars = [...m[0]];
      for (let k = 0; k < chars.length; k += pieceLength) {
        const piece = chars.slice(k, k + pieceLength).join('');
        out.push({ text: piece, start: at, end: at + piece.length, word });
        at += piece.length;
      }
      word++;
    }
    return out;
  };
  const build = (a: Piece[], b: Piece[] | undefined): Encoding => {
    const ids = [CLS, ...a.map((p) => idOf(p.text)), SEP];
    const typeIds = ids.map(() => 0);
    const offsets: [number, number][] = [[0, 0], ...a.map((p): [number, number] => [p.start, p.end]), [0, 0]];
    const wordIds: (number | null)[] = [null, ...a.map((p) => p.word), null];
    const sequenceIds: (number | null)[] = [null, ...a.map(() => 0), null];
    if (b) {
      ids.push(...b.map((p) => idOf(p.text)), SEP);
      typeIds.push(...b.map(() => 1), 1);
      offsets.push(...b.map((p): [number, number] => [p.start, p.end]), [0, 0]);
      wordIds.push(...b.map((p) => p.word), null);
      sequenceIds.push(...b.map(() => 1), null);
    }
    return { ids, typeIds, offsets, wordIds, sequenceIds };
  };
  const encodePieces = (a: Piece[], b: Piece[] | undefined, options: EncodeOptions = {}): Encoding[] => {
    calls++;
    const maxLength = options.maxLength ?? 512;
    const specials = b ? 3 : 2;
    const total = a.length + (b?.length ?? 0) + specials;
    if (total <= maxLength) return [build(a, b)];
    const mode = options.truncation ?? 'longest_first';
    if (mode === 'longest_first' && b) throw new Error('fake tokenizer: longest_first on pairs is not implemented');
    const cutSecond = b !== undefined && mode !== 'only_first';
    const seq = cutSecond ? b! : a;
    const room = maxLength - specials - (cutSecond ? a.length : (b?.length ?? 0));
    if (room <= 0) throw new Error('fake tokenizer: nothing left of the truncated sequence');
    const windows: Piece[][] = [];
    const stride = options.stride;
    if (stride === undefined) windows.push(seq.slice(0, room));
    else {
      if (stride >= room) throw new Error('fake tokenizer: stride must be smaller than the window');
      for (let s = 0; ; s += room - stride) {
        windows.push(seq.slice(s, s + room));
        if (s + room >= seq.length) break;
      }
    }
    return windows.map((w) => (cutSecond ? build(a, w) : build(w, b)));
  };
  return {
    vocabSize: VOCAB,
    padId: PAD,
    clsId: CLS,
    sepId: SEP,
    unkId: UNK,
    get calls() {
      return calls;
    },
    async encode(text, pair, options) {
      return encodePieces(pieces(text), pair === undefined ? undefined : pieces(pair), options);
    },
    async encodeWords(words, options) {
      const all: Piece[] = [];
      words.forEach((w, i) => all.push(...pieces(w).map((p) => ({ ...p, word: i }))));
      return encodePieces(all, undefined, options);
    },
    async decode(ids) {
      return ids.filter((id) => id !== CLS && id !== SEP && id !== PAD).map((id) => names.get(id) ?? '[UNK]').join(' ');
    },
  };
}
