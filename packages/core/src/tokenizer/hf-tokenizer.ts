import type { Encoding as NativeEncoding, Tokenizer as NativeTokenizer } from 'tokenizers';
import { XltError } from '../errors.js';
import type { EncodeOptions, Encoding, Tokenizer } from '../plugins/tokenizer.js';
import { codePointToUtf16 } from './offsets.js';

/** Ids of the special tokens core needs, resolved from the tokenizer's vocabulary. */
export interface SpecialTokenIds {
  readonly padId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly unkId: number;
}

/** How {@link HfTokenizer} gets native `tokenizers` instances: each truncation setting needs its own one. */
export type NativeTokenizerFactory = () => Promise<NativeTokenizer>;

/** Where a tokenizer came from, for error messages. */
export interface HfTokenizerSource {
  /** The file the tokenizer was read from (`tokenizer.json` or `vocab.txt`). */
  readonly file: string;
  /** Longest encoding when a call gives no `maxLength` (the model's maximum). */
  readonly modelMaxLength: number;
}

/** What the single-sequence template puts around the text (`[CLS] … [SEP]`, `<s> … </s>`). */
interface SingleTemplate {
  readonly prefix: readonly number[];
  readonly prefixTypes: readonly number[];
  readonly suffix: readonly number[];
  readonly suffixTypes: readonly number[];
  readonly contentType: number;
}

const STRATEGY = { longest_first: 'LongestFirst', only_first: 'OnlyFirst', only_second: 'OnlySecond' } as const;

/**
 * The core {@link Tokenizer} over Hugging Face `tokenizers` (the Rust library through its Node binding).
 * Offsets come back in UTF-16 code units. Truncation is a setting of a native tokenizer, not an argument of
 * `encode`, so one native instance is kept per truncation setting: concurrent calls never change each other's.
 */
export class HfTokenizer implements Tokenizer {
  readonly #factory: NativeTokenizerFactory;
  readonly #base: NativeTokenizer;
  readonly #template: SingleTemplate;
  readonly #truncating = new Map<string, Promise<NativeTokenizer>>();

  private constructor(
    factory: NativeTokenizerFactory,
    base: NativeTokenizer,
    template: SingleTemplate,
    readonly specials: SpecialTokenIds,
    readonly source: HfTokenizerSource,
  ) {
    this.#factory = factory;
    this.#base = base;
    this.#template = template;
  }

  /** Builds a tokenizer; `factory` must return a fresh native instance with no truncation or padding set. */
  static async create(factory: NativeTokenizerFactory, specials: SpecialTokenIds, source: HfTokenizerSource): Promise<HfTokenizer> {
    const base = await factory();
    base.disableTruncation();
    base.disablePadding();
    const probe = await base.encode('a', null, { addSpecialTokens: true });
    const ids = probe.getIds();
    const types = probe.getTypeIds();
    const mask = probe.getSpecialTokensMask();
    let start = 0;
    while (start < mask.length && mask[start] === 1) start++;
    let end = mask.length;
    while (end > start && mask[end - 1] === 1) end--;
    const template: SingleTemplate = {
      prefix: ids.slice(0, start),
      prefixTypes: types.slice(0, start),
      suffix: ids.slice(end),
      suffixTypes: types.slice(end),
      contentType: start < end ? types[start]! : 0,
    };
    return new HfTokenizer(factory, base, template, specials, source);
  }

  /** Vocabulary size, added tokens included. */
  get vocabSize(): number {
    return this.#base.getVocabSize(true);
  }
  get padId(): number {
    return this.specials.padId;
  }
  get clsId(): number {
    return this.specials.clsId;
  }
  get sepId(): number {
    return this.specials.sepId;
  }
  get unkId(): number {
    return this.specials.unkId;
  }

  /** The token string of an id (for debugging and tests). */
  idToToken(id: number): string | null {
    return this.#base.idToToken(id);
  }

  async encode(text: string, pair?: string, options: EncodeOptions = {}): Promise<Encoding[]> {
    const maxLength = options.maxLength ?? this.source.modelMaxLength;
    // A single sequence has no second one to cut: HF errors on only_second there, xlt cuts the one it has.
    const truncation = pair === undefined ? 'longest_first' : (options.truncation ?? 'longest_first');
    const native = await this.#nativeFor(maxLength, truncation, options.stride ?? 0);
    let encoding: NativeEncoding;
    try {
      encoding = await native.encode(text, pair ?? null);
    } catch (error) {
      throw new XltError(
        `Tokenizer ${this.source.file}: cannot encode ${pair === undefined ? 'a text' : 'a pair'} with maxLength ${maxLength}, ` +
          `truncation ${truncation}${options.stride !== undefined ? `, stride ${options.stride}` : ''}: ${(error as Error).message}` +
          (truncation === 'only_second' ? ' (the first sequence alone is too long for maxLength)' : ''),
        { cause: error },
      );
    }
    const toText = codePointToUtf16(text);
    const toPair = pair === undefined ? toText : codePointToUtf16(pair);
    const windows = [encoding, ...(options.stride !== undefined ? encoding.getOverflowing() : [])];
    return windows.map((window) => convert(window, toText, toPair));
  }

  async encodeWords(words: readonly string[], options: EncodeOptions = {}): Promise<Encoding[]> {
    // tokenizers 0.23.2 cannot take string[] input (isPretokenized throws), so each word is encoded alone and the
    // special tokens are put around the result as the single-sequence template does.
    const perWord = await Promise.all(words.map((word) => this.#base.encode(word, null, { addSpecialTokens: false })));
    const ids: number[] = [];
    const offsets: (readonly [number, number])[] = [];
    const wordIds: number[] = [];
    perWord.forEach((encoding, wordIndex) => {
      const toWord = codePointToUtf16(words[wordIndex]!);
      const wordOffsets = encoding.getOffsets();
      encoding.getIds().forEach((id, t) => {
        ids.push(id);
        offsets.push([toWord(wordOffsets[t]![0]!), toWord(wordOffsets[t]![1]!)]);
        wordIds.push(wordIndex);
      });
    });
    const maxLength = options.maxLength ?? this.source.modelMaxLength;
    const t = this.#template;
    const budget = maxLength - t.prefix.length - t.suffix.length;
    if (budget <= 0) {
      throw new XltError(`Tokenizer ${this.source.file}: maxLength ${maxLength} leaves no room for tokens beside the special tokens.`);
    }
    const ranges = windowRanges(ids.length, budget, options.stride);
    return ranges.map(([from, to]) => {
      const n = to - from;
      const none = (k: number) => new Array<null>(k).fill(null);
      const zeros = (k: number) => new Array<readonly [number, number]>(k).fill([0, 0]);
      return {
        ids: [...t.prefix, ...ids.slice(from, to), ...t.suffix],
        typeIds: [...t.prefixTypes, ...new Array<number>(n).fill(t.contentType), ...t.suffixTypes],
        offsets: [...zeros(t.prefix.length), ...offsets.slice(from, to), ...zeros(t.suffix.length)],
        wordIds: [...none(t.prefix.length), ...wordIds.slice(from, to), ...none(t.suffix.length)],
        sequenceIds: [...none(t.prefix.length), ...new Array<number>(n).fill(0), ...none(t.suffix.length)],
      };
    });
  }

  async decode(ids: readonly number[]): Promise<string> {
    return this.#base.decode([...ids], true);
  }

  #nativeFor(maxLength: number, truncation: keyof typeof STRATEGY, stride: number): Promise<NativeTokenizer> {
    const key = `${maxLength}/${truncation}/${stride}`;
    let native = this.#truncating.get(key);
    if (!native) {
      native = this.#factory().then((tokenizer) => {
        tokenizer.disablePadding();
        try {
          tokenizer.setTruncation(maxLength, { strategy: STRATEGY[truncation] as never, stride });
        } catch (error) {
          throw new XltError(
            `Tokenizer ${this.source.file}: invalid truncation (maxLength ${maxLength}, stride ${stride}): ${(error as Error).message}`,
          );
        }
        return tokenizer;
      });
      native.catch(() => this.#truncating.delete(key));
      this.#truncating.set(key, native);
    }
    return native;
  }
}

/**
 * Token ranges of the windows over `length` content tokens with room for `budget` per window, as HF's
 * `Encoding.truncate` cuts them: without a stride only the first window; with one, windows that start `budget -
 * stride` apart until one reaches the end.
 */
export function windowRanges(length: number, budget: number, stride: number | undefined): [number, number][] {
  if (length <= budget) return [[0, length]];
  if (stride === undefined) return [[0, budget]];
  if (stride >= budget) {
    throw new XltError(`Stride ${stride} must be smaller than the ${budget} tokens a window holds besides special tokens.`);
  }
  const ranges: [number, number][] = [];
  for (let start = 0; ; start += budget - stride) {
    const stop = Math.min(start + budget, length);
    ranges.push([start, stop]);
    if (stop === length) return ranges;
  }
}

function convert(encoding: NativeEncoding, toText: (o: number) => number, toPair: (o: number) => number): Encoding {
  const special = encoding.getSpecialTokensMask();
  const sequenceIds = encoding.getSequenceIds().map((s, i) => (special[i] === 1 || s === undefined ? null : s));
  const offsets = encoding.getOffsets().map(([from, to], i): readonly [number, number] => {
    const sequence = sequenceIds[i];
    if (sequence === null) return [0, 0];
    const map = sequence === 1 ? toPair : toText;
    return [map(from!), map(to!)];
  });
  return {
    ids: encoding.getIds(),
    typeIds: encoding.getTypeIds(),
    offsets,
    wordIds: encoding.getWordIds().map((w, i) => (special[i] === 1 || w === undefined ? null : w)),
    sequenceIds,
  };
}
