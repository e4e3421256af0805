import { XltError, type Encoding, type Feature, type Tokenizer } from '@xlt/plugin-api';
import type { QaExample } from './qa-example.js';

/** One input window of a question over part of its context, with what training and decoding need. */
export interface QaFeature extends Feature {
  /** Which window of its example this is (0 for the first). */
  readonly windowIndex: number;
  /** Character span in the context of each token (UTF-16 code units), `null` for question and special tokens. */
  readonly offsets: readonly (readonly [number, number] | null)[];
  /**
   * Whether this window is the one where the token has the most context on both sides (BERT's
   * `token_is_max_context`): decoding only starts answers at such tokens, so overlapping windows do not compete.
   */
  readonly maxContext: readonly boolean[];
  /** Token index of the first answer's start in this window, 0 (the CLS token) when the answer is not inside. */
  readonly startPosition: number;
  /** Token index of the first answer's end (inclusive), 0 when the answer is not inside. */
  readonly endPosition: number;
}

/** Windowing options, with the defaults of BERT's `run_squad.py` as used by XTREME. */
export interface QaWindowOptions {
  /** Tokens per window, special tokens included (384). */
  readonly maxLength: number;
  /** Context tokens between the starts of consecutive windows (128): `doc_stride` of `run_squad.py`. */
  readonly docStride: number;
  /** Question tokens kept; longer questions are cut (64). */
  readonly maxQueryLength: number;
}

/** Default {@link QaWindowOptions}. */
export const DEFAULT_WINDOW_OPTIONS: QaWindowOptions = { maxLength: 384, docStride: 128, maxQueryLength: 64 };

/** Passed as `maxLength` to get the whole context: the windows are cut here, not by the tokenizer. */
const WHOLE_TEXT = 1_000_000;

/** The parts of one encoded question + context pair, split by role. */
interface PairLayout {
  readonly prefix: readonly number[];
  readonly question: readonly number[];
  readonly middle: readonly number[];
  readonly context: readonly number[];
  readonly suffix: readonly number[];
}

/** Splits a pair encoding into [specials] question [specials] context [specials] (BERT and XLM-R templates). */
function pairLayout(encoding: Encoding, exampleId: string): PairLayout {
  const parts: number[][] = [[], [], [], [], []];
  let part = 0;
  encoding.sequenceIds.forEach((seq, i) => {
    const want = seq === null ? (part <= 0 ? 0 : part <= 2 ? 2 : 4) : seq === 0 ? 1 : 3;
    if (want < part) {
      throw new XltError(
        `The tokenizer's encoding of question ${JSON.stringify(exampleId)} is not laid out as [special] question [special] context [special] ` +
          `(token ${i} has sequence id ${seq} after later parts); QA windows need that layout.`,
      );
    }
    part = want;
    parts[part]!.push(i);
  });
  const [prefix, question, middle, context, suffix] = parts as [number[], number[], number[], number[], number[]];
  return { prefix, question, middle, context, suffix };
}

/**
 * The windows over the context tokens, as `[start, length]` pairs: starts 0, `docStride`, `2*docStride`, ... until
 * a window reaches the end (BERT's `run_squad.py`; XTREME uses it for XQuAD, MLQA and TyDiQA).
 */
export function contextWindows(contextTokens: number, room: number, docStride: number): [number, number][] {
  const spans: [number, number][] = [];
  let start = 0;
  for (;;) {
    const length = Math.min(room, contextTokens - start);
    spans.push([start, length]);
    if (start + length >= contextTokens) return spans;
    start += Math.min(length, docStride);
  }
}

/**
 * Whether window `w` gives context token `i` the most context: score `min(left, right) + 0.01 * length`, the
 * first window winning ties (`_check_is_max_context` of `run_squad.py`).
 */
function isMaxContext(spans: readonly [number, number][], w: number, i: number): boolean {
  let best = -1;
  let bestScore = -Infinity;
  spans.forEach(([start, length], k) => {
    if (i < start || i >= start + length) return;
    const score = Math.min(i - start, start + length - 1 - i) + 0.01 * length;
    if (score > bestScore) {
      bestScore = score;
      best = k;
    }
  });
  return best === w;
}

/**
 * Question + context pairs to model windows. The pair is encoded once with the whole context (truncation
 * `only_second` would never have to cut); the question is cut to `maxQueryLength` tokens and the context is cut
 * into windows of what remains of `maxLength`, each window repeating the question and the special tokens.
 * Answer start and end tokens are found through the token offsets (UTF-16, from the core tokenizer): the first
 * context token ending after the answer start and the last one starting before the answer end. A window that does
 * not hold the whole answer points both positions at index 0 (CLS), as in Hugging Face's scripts.
 */
export async function featurizeQa(
  examples: readonly QaExample[],
  tokenizer: Tokenizer,
  options: QaWindowOptions = DEFAULT_WINDOW_OPTIONS,
): Promise<QaFeature[]> {
  const { maxLength, docStride, maxQueryLength } = options;
  if (!(docStride > 0) || !(maxQueryLength > 0)) throw new XltError(`docStride and maxQueryLength must be positive; found ${docStride} and ${maxQueryLength}.`);
  const encodings = await Promise.all(
    examples.map((e) => tokenizer.encode(e.question, e.context, { maxLength: WHOLE_TEXT, truncation: 'only_second' })),
  );
  const features: QaFeature[] = [];
  examples.forEach((example, exampleIndex) => {
    const encoding = encodings[exampleIndex]![0];
    if (!encoding || encodings[exampleIndex]!.length !== 1) {
      throw new XltError(`The tokenizer returned ${encodings[exampleIndex]!.length} encodings for question ${JSON.stringify(example.id)}; expected 1.`);
    }
    const layout = pairLayout(encoding, example.id);
    const ctx = layout.context;
    checkWholeContext(encoding, ctx, example);
    const question = layout.question.slice(0, maxQueryLength);
    const head = [...layout.prefix, ...question, ...layout.middle];
    const room = maxLength - head.length - layout.suffix.length;
    if (room <= 0) {
      throw new XltError(`maxLength ${maxLength} leaves no room for the context of question ${JSON.stringify(example.id)} (question and special tokens take ${head.length + layout.suffix.length}).`);
    }
    // The answer as context-token indices [first, last], or undefined when no token covers it.
    const answer = example.answers[0];
    let first = -1;
    let last = -1;
    if (answer) {
      const a = answer.answerStart;
      const b = a + answer.text.length;
      for (let k = 0; k < ctx.length; k++) {
        const [s, e] = encoding.offsets[ctx[k]!]!;
        if (first < 0 && e > a && s < b) first = k;
        if (s < b && e > a) last = k;
      }
    }
    const spans = contextWindows(ctx.length, room, docStride);
    spans.forEach(([start, length], windowIndex) => {
      const tokens = [...head, ...ctx.slice(start, start + length), ...layout.suffix];
      const offsets = tokens.map((t, i) => (i >= head.length && i < head.length + length ? encoding.offsets[t]! : null));
      const maxContext = tokens.map((_, i) => i >= head.length && i < head.length + length && isMaxContext(spans, windowIndex, start + i - head.length));
      const inside = first >= 0 && first >= start && last < start + length;
      features.push({
        exampleIndex,
        windowIndex,
        inputIds: tokens.map((t) => encoding.ids[t]!),
        tokenTypeIds: tokens.map((t) => encoding.typeIds[t]!),
        offsets,
        maxContext,
        startPosition: inside ? head.length + first - start : 0,
        endPosition: inside ? head.length + last - start : 0,
      });
    });
  });
  return features;
}

/** Guards against a tokenizer that cut the context despite the large `maxLength`: answers would vanish silently. */
function checkWholeContext(encoding: Encoding, ctx: readonly number[], example: QaExample): void {
  const end = ctx.length ? encoding.offsets[ctx[ctx.length - 1]!]![1] : 0;
  if (/[\p{L}\p{N}]/u.test(example.context.slice(end))) {
    throw new XltError(
      `The tokenizer covered the context of question ${JSON.stringify(example.id)} only up to character ${end} of ${example.context.length}; ` +
        `QA needs the whole context (it makes the windows itself). Does the tokenizer cap maxLength?`,
    );
  }
}
