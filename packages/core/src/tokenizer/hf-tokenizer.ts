import type { Encoding as NativeEncoding, Tokenizer as NativeTokenizer } from 'tokenizers';
import type { EncodeOptions, Encoding, Tokenizer } from '@xlt/plugin-api';
import { codePointToUtf16 } from './offsets.js';
import { readTemplates, type Templates } from './templates.js';
import { truncationPlan, type Pieces } from './truncation.js';

/** Distinct words whose tokens {@link HfTokenizer.encodeWords} keeps; the cache starts over when full. */
const WORD_CACHE_SIZE = 200_000;

/** Ids of the special tokens core needs, resolved from the tokenizer's vocabulary. */
export interface SpecialTokenIds {
  readonly padId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly unkId: number;
}

/** Where a tokenizer came from, for error messages and defaults. */
export interface HfTokenizerSource {
  /** The file the tokenizer was read from (`tokenizer.json` or `vocab.txt`). */
  readonly file: string;
  /** Longest encoding when a call gives no `maxLength` (the model's maximum). */
  readonly modelMaxLength: number;
}

/**
 * The core {@link Tokenizer} over Hugging Face `tokenizers` (the Rust library through its Node binding).
 *
 * The binding (0.23.2) is used only to split each sequence into tokens: its overflowing windows stop early (a
 * 40-token text with stride gives two windows, the second cut short), and it cannot take pre-tokenized input.
 * Truncation, windows and special tokens are therefore done here, following the Rust `truncate_encodings`
 * rules, and the special-token layout is read from the tokenizer's own post-processor. Offsets come back in
 * UTF-16 code units.
 */
export class HfTokenizer implements Tokenizer {
  readonly #native: NativeTokenizer;
  readonly #templates: Templates;
  /** Tokens of words seen by {@link encodeWords}: tagging corpora repeat words, and each native call costs. */
  readonly #words = new Map<string, Promise<Pieces>>();

  private constructor(
    native: NativeTokenizer,
    templates: Templates,
    /** The special token ids. */
    readonly specials: SpecialTokenIds,
    /** Where the tokenizer came from. */
    readonly source: HfTokenizerSource,
  ) {
    this.#native = native;
    this.#templates = templates;
  }

  /** Wraps a native tokenizer; truncation and padding settings on it are turned off. */
  static async create(native: NativeTokenizer, specials: SpecialTokenIds, source: HfTokenizerSource): Promise<HfTokenizer> {
    native.disableTruncation();
    native.disablePadding();
    return new HfTokenizer(native, await readTemplates(native, source.file), specials, source);
  }

  /** Vocabulary size, added tokens included. */
  get vocabSize(): number {
    return this.#native.getVocabSize(true);
  }
  /** Id of the padding token (`[PAD]`, `<pad>`). */
  get padId(): number {
    return this.specials.padId;
  }
  /** Id of the sequence-start token (`[CLS]`, `<s>`). */
  get clsId(): number {
    return this.specials.clsId;
  }
  /** Id of the separator token (`[SEP]`, `</s>`). */
  get sepId(): number {
    return this.specials.sepId;
  }
  /** Id of the unknown token (`[UNK]`, `<unk>`). */
  get unkId(): number {
    return this.specials.unkId;
  }

  /** The token string of an id (for debugging and tests). */
  idToToken(id: number): string | null {
    return this.#native.idToToken(id);
  }

  async encode(text: string, pair?: string, options: EncodeOptions = {}): Promise<Encoding[]> {
    const [first, second] = await Promise.all([this.#pieces(text), pair === undefined ? undefined : this.#pieces(pair)]);
    return this.#assemble(first, second, options);
  }

  async encodeWords(words: readonly string[], options: EncodeOptions = {}): Promise<Encoding[]> {
    const perWord = await Promise.all(words.map((word) => this.#wordPieces(word)));
    const joined: Pieces = { ids: [], offsets: [], wordIds: [] };
    perWord.forEach((pieces, wordIndex) => {
      joined.ids.push(...pieces.ids);
      joined.offsets.push(...pieces.offsets);
      joined.wordIds.push(...pieces.ids.map(() => wordIndex));
    });
    return this.#assemble(joined, undefined, options);
  }

  async decode(ids: readonly number[]): Promise<string> {
    return this.#native.decode([...ids], true);
  }

  #wordPieces(word: string): Promise<Pieces> {
    let pieces = this.#words.get(word);
    if (!pieces) {
      if (this.#words.size >= WORD_CACHE_SIZE) this.#words.clear();
      pieces = this.#pieces(word);
      this.#words.set(word, pieces);
      pieces.catch(() => this.#words.delete(word));
    }
    return pieces;
  }

  /** One sequence as tokens without special tokens, offsets in UTF-16 units. */
  async #pieces(text: string): Promise<Pieces> {
    const encoding: NativeEncoding = await this.#native.encode(text, null, { addSpecialTokens: false });
    const toUtf16 = codePointToUtf16(text);
    return {
      ids: encoding.getIds(),
      offsets: encoding.getOffsets().map(([from, to]): readonly [number, number] => [toUtf16(from!), toUtf16(to!)]),
      wordIds: encoding.getWordIds().map((w) => w ?? 0),
    };
  }

  #assemble(first: Pieces, second: Pieces | undefined, options: EncodeOptions): Encoding[] {
    const maxLength = options.maxLength ?? this.source.modelMaxLength;
    const template = second === undefined ? this.#templates.single : this.#templates.pair;
    const plan = truncationPlan(
      first.ids.length,
      second?.ids.length,
      maxLength - template.specialCount,
      options.truncation ?? 'longest_first',
      options.stride,
      this.source.file,
    );
    return plan.map(([rangeA, rangeB]) => {
      const out = { ids: [] as number[], typeIds: [] as number[], offsets: [] as (readonly [number, number])[], wordIds: [] as (number | null)[], sequenceIds: [] as (number | null)[] };
      for (const part of template.parts) {
        if (part.kind === 'special') {
          out.ids.push(part.id);
          out.typeIds.push(part.typeId);
          out.offsets.push([0, 0]);
          out.wordIds.push(null);
          out.sequenceIds.push(null);
          continue;
        }
        const pieces = part.sequence === 0 ? first : second!;
        const [from, to] = part.sequence === 0 ? rangeA : rangeB!;
        for (let i = from; i < to; i++) {
          out.ids.push(pieces.ids[i]!);
          out.typeIds.push(part.typeId);
          out.offsets.push(pieces.offsets[i]!);
          out.wordIds.push(pieces.wordIds[i]!);
          out.sequenceIds.push(part.sequence);
        }
      }
      return out;
    });
  }
}
