import type { EncodeOptions, Encoding, Tokenizer } from '../plugins/tokenizer.js';

/** Options of {@link whitespaceTokenizer}. */
export interface WhitespaceTokenizerOptions {
  /** Size of the id space; piece ids are hashed into `[FIRST_PIECE_ID, vocabSize)`. Default 1000. */
  readonly vocabSize?: number;
  /** Longest piece in code points (a word splits into pieces of this many characters). Default 3. */
  readonly pieceLength?: number;
  /** Used when an encode call gives no `maxLength`. Default 512, like BERT. */
  readonly modelMaxLength?: number;
  /**
   * Also split words at punctuation, like BERT's pre-tokenizer: runs of letters, marks and digits are words, and
   * every other non-space character is a word of its own (`Paris,` → `Paris` `,`). Default false.
   */
  readonly splitPunctuation?: boolean;
}

/** Id of the first ordinary piece: 0 pad, 1 [CLS], 2 [SEP], 3 [UNK], 4 [MASK]. */
const FIRST_PIECE_ID = 5;

interface Piece {
  readonly id: number;
  readonly offsets: readonly [number, number];
  readonly wordId: number;
}

/**
 * A tiny in-memory tokenizer for offline tests, with the layout of a BERT WordPiece tokenizer from HF
 * `tokenizers`: whitespace words (also cut at punctuation with `splitPunctuation`) split into pieces of up to
 * `pieceLength` characters (continuations marked `##`), ids hashed from the piece text, `[CLS] A [SEP] (B [SEP])`,
 * BERT segment ids, UTF-16 offsets relative to each input text (to each word for {@link Tokenizer.encodeWords}), `longest_first` / `only_first` /
 * `only_second` truncation and `stride` overflow windows as `return_overflowing_tokens=True` gives them.
 * Ids: pad 0, [CLS] 1, [SEP] 2, [UNK] 3. It needs no files, so task conformance runs anywhere.
 */
export function whitespaceTokenizer(options: WhitespaceTokenizerOptions = {}): Tokenizer {
  const vocabSize = options.vocabSize ?? 1000;
  const pieceLength = options.pieceLength ?? 3;
  const modelMaxLength = options.modelMaxLength ?? 512;
  const words = options.splitPunctuation ? /[\p{L}\p{N}\p{M}]+|[^\s\p{L}\p{N}\p{M}]/gu : /\S+/gu;
  if (vocabSize <= FIRST_PIECE_ID) throw new RangeError(`vocabSize must exceed ${FIRST_PIECE_ID}, got ${vocabSize}`);
  // Hashing loses the text, so decode looks pieces up by the id they were last seen with.
  const seen = new Map<number, string>();

  const pieceId = (text: string): number => {
    let h = 2166136261;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
    const id = FIRST_PIECE_ID + (h % (vocabSize - FIRST_PIECE_ID));
    seen.set(id, text);
    return id;
  };

  /** Pieces of one word starting at `start` (UTF-16) of its text; word index `wordId`. */
  const splitWord = (word: string, start: number, wordId: number, out: Piece[]) => {
    const chars = Array.from(word);
    let offset = start;
    for (let i = 0; i < chars.length; i += pieceLength) {
      const text = chars.slice(i, i + pieceLength).join('');
      out.push({ id: pieceId(i === 0 ? text : `##${text}`), offsets: [offset, offset + text.length], wordId });
      offset += text.length;
    }
  };

  const tokenizeText = (text: string): Piece[] => {
    const out: Piece[] = [];
    let wordId = 0;
    for (const match of text.matchAll(words)) splitWord(match[0], match.index, wordId++, out);
    return out;
  };

  const tokenizeWords = (words: readonly string[]): Piece[] => {
    const out: Piece[] = [];
    words.forEach((word, wordId) => {
      if (word.length === 0) out.push({ id: 3, offsets: [0, 0], wordId });
      else splitWord(word, 0, wordId, out);
    });
    return out;
  };

  const build = (first: readonly Piece[], second?: readonly Piece[]): Encoding => {
    const ids = [1];
    const typeIds = [0];
    const offsets: (readonly [number, number])[] = [[0, 0]];
    const wordIds: (number | null)[] = [null];
    const sequenceIds: (number | null)[] = [null];
    const push = (pieces: readonly Piece[], sequence: number) => {
      for (const p of pieces) {
        ids.push(p.id);
        typeIds.push(sequence);
        offsets.push(p.offsets);
        wordIds.push(p.wordId);
        sequenceIds.push(sequence);
      }
      ids.push(2);
      typeIds.push(sequence);
      offsets.push([0, 0]);
      wordIds.push(null);
      sequenceIds.push(null);
    };
    push(first, 0);
    if (second) push(second, 1);
    return { ids, typeIds, offsets, wordIds, sequenceIds };
  };

  const encodePieces = (first: Piece[], second: Piece[] | undefined, opts: EncodeOptions = {}): Encoding[] => {
    const maxLength = opts.maxLength ?? modelMaxLength;
    const truncation = opts.truncation ?? 'longest_first';
    const specials = second ? 3 : 2;
    const budget = maxLength - specials;
    if (budget < 1) throw new RangeError(`maxLength ${maxLength} leaves no room for tokens after ${specials} special tokens`);
    const total = first.length + (second?.length ?? 0);
    if (total <= budget) return [build(first, second)];

    // Which sequence overflows into windows (or is cut): the only one, or the one the strategy names.
    const cutSecond = second !== undefined && truncation !== 'only_first';
    if (opts.stride !== undefined || truncation !== 'longest_first' || !second) {
      const cut = cutSecond ? second! : first;
      const room = budget - (cutSecond ? first.length : (second?.length ?? 0));
      if (room < 1) {
        throw new RangeError(`maxLength ${maxLength} is too short: the sequence that is not truncated already fills it`);
      }
      const windows: Piece[][] = [];
      if (opts.stride === undefined) {
        windows.push(cut.slice(0, room));
      } else {
        if (opts.stride >= room) throw new RangeError(`stride ${opts.stride} must be below the window length ${room}`);
        for (let start = 0; ; start += room - opts.stride) {
          windows.push(cut.slice(start, start + room));
          if (start + room >= cut.length) break;
        }
      }
      return windows.map((w) => (cutSecond ? build(first, w) : build(w, second)));
    }
    // longest_first for a pair without windows: drop one token at a time from the longer sequence.
    let a = first.length;
    let b = second.length;
    while (a + b > budget) {
      if (a > b) a--;
      else b--;
    }
    return [build(first.slice(0, a), second.slice(0, b))];
  };

  return {
    vocabSize,
    padId: 0,
    clsId: 1,
    sepId: 2,
    unkId: 3,
    async encode(text: string, pair?: string, opts?: EncodeOptions): Promise<Encoding[]> {
      return encodePieces(tokenizeText(text), pair === undefined ? undefined : tokenizeText(pair), opts);
    },
    async encodeWords(words: readonly string[], opts?: EncodeOptions): Promise<Encoding[]> {
      return encodePieces(tokenizeWords(words), undefined, opts);
    },
    async decode(ids: readonly number[]): Promise<string> {
      let text = '';
      for (const id of ids) {
        if (id < FIRST_PIECE_ID) continue;
        const piece = seen.get(id) ?? '[UNK]';
        if (piece.startsWith('##')) text += piece.slice(2);
        else text += (text ? ' ' : '') + piece;
      }
      return text;
    },
  };
}
