import type { Plugin } from './plugin.js';

/** One encoded sequence (or one overflowing window of a long one), in the layout of HF `tokenizers`. */
export interface Encoding {
  /** Token ids, special tokens included. */
  readonly ids: readonly number[];
  /** Segment ids (0 for the first sequence, 1 for the second in BERT; all 0 in XLM-R). */
  readonly typeIds: readonly number[];
  /**
   * Character span of each token in its source text as **UTF-16 code-unit** offsets (JavaScript string indices),
   * `[0, 0]` for special tokens. The provider converts from the code-point offsets `tokenizers` returns.
   */
  readonly offsets: readonly (readonly [number, number])[];
  /** Index of the word each token comes from (pre-tokenized input or whitespace words), `null` for special tokens. */
  readonly wordIds: readonly (number | null)[];
  /** Which input sequence each token belongs to (0 or 1), `null` for special tokens. */
  readonly sequenceIds: readonly (number | null)[];
}

/** Truncation and windowing of an encode call. */
export interface EncodeOptions {
  /** Longest output in tokens, special tokens included. Default: the model's maximum. */
  readonly maxLength?: number;
  /** Which sequence to cut: `longest_first` (default), `only_first` or `only_second` (QA contexts). */
  readonly truncation?: 'longest_first' | 'only_first' | 'only_second';
  /**
   * When set, the truncated sequence overflows into further windows that overlap by `stride` tokens
   * (HF's `return_overflowing_tokens=True, stride=...`); all windows are returned.
   */
  readonly stride?: number;
}

/** A loaded tokenizer; thread-safe and reusable. */
export interface Tokenizer {
  readonly vocabSize: number;
  readonly padId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly unkId: number;
  /** Encodes one text or a pair. Returns one encoding, or several windows when `stride` is set. */
  encode(text: string, pair?: string, options?: EncodeOptions): Promise<Encoding[]>;
  /** Encodes a pre-tokenized word sequence (tagging); `wordIds` index into `words`. */
  encodeWords(words: readonly string[], options?: EncodeOptions): Promise<Encoding[]>;
  /** Token ids back to text, skipping special tokens. */
  decode(ids: readonly number[]): Promise<string>;
}

/** Extension point: loads a tokenizer from an HF model folder (`tokenizer.json`, `vocab.txt`, ...). */
export interface TokenizerProvider extends Plugin {
  /** True when this provider can load the given folder. */
  canLoad(folder: string): Promise<boolean>;
  load(folder: string): Promise<Tokenizer>;
}

/** Service identifier of {@link TokenizerProvider}. */
export const TokenizerProvider: unique symbol = Symbol.for('xlt.TokenizerProvider');
