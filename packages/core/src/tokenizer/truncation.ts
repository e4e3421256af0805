import { XltError, type EncodeOptions } from '@xlt/plugin-api';

/** Tokens of one sequence, without special tokens. */
export interface Pieces {
  readonly ids: number[];
  /** UTF-16 offsets into the sequence's text. */
  readonly offsets: (readonly [number, number])[];
  readonly wordIds: number[];
}

/** Token ranges `[from, to)` of the first and (for pairs) the second sequence in one window. */
export type WindowPlan = [readonly [number, number], (readonly [number, number]) | undefined];

/**
 * Token ranges of the windows over `length` tokens with room for `size` per window, as the Rust
 * `Encoding::truncate` cuts them: without a stride only the first window; with one, windows that start
 * `size - stride` apart until one reaches the end.
 */
export function windowRanges(length: number, size: number, stride: number | undefined): [number, number][] {
  if (length <= size) return [[0, length]];
  if (stride === undefined) return [[0, size]];
  if (stride >= size) {
    throw new XltError(`Stride ${stride} must be smaller than the ${size} tokens a window holds besides the special tokens.`);
  }
  const ranges: [number, number][] = [];
  for (let start = 0; ; start += size - stride) {
    const stop = Math.min(start + size, length);
    ranges.push([start, stop]);
    if (stop === length) return ranges;
  }
}

/**
 * The windows of an encoding with `lengthA` (+ `lengthB`) tokens and room for `budget` tokens besides the special
 * ones, following HF `tokenizers`' `truncate_encodings`: `only_first`/`only_second` cut one sequence (and window it
 * with a stride), `longest_first` shares the room between both, the longer one giving up tokens first.
 */
export function truncationPlan(
  lengthA: number,
  lengthB: number | undefined,
  budget: number,
  truncation: NonNullable<EncodeOptions['truncation']>,
  stride: number | undefined,
  file: string,
): WindowPlan[] {
  const where = `Tokenizer ${file}`;
  if (budget <= 0) throw new XltError(`${where}: maxLength leaves no room for tokens besides the special tokens.`);
  if (lengthB === undefined) return windowRanges(lengthA, budget, stride).map((range) => [range, undefined]);
  const excess = lengthA + lengthB - budget;
  if (excess <= 0) return [[[0, lengthA], [0, lengthB]]];
  if (truncation === 'only_first' || truncation === 'only_second') {
    const target = truncation === 'only_first' ? lengthA : lengthB;
    if (target <= excess) {
      throw new XltError(
        `${where}: cannot truncate with ${truncation}: the ${truncation === 'only_first' ? 'second' : 'first'} sequence ` +
          `(${truncation === 'only_first' ? lengthB : lengthA} tokens) alone leaves no room for the other within maxLength.`,
      );
    }
    const windows = windowRanges(target, target - excess, stride);
    return windows.map((range) => (truncation === 'only_first' ? [range, [0, lengthB]] : [[0, lengthA], range]));
  }
  if (stride !== undefined) {
    throw new XltError(`${where}: windows (stride) over a pair need truncation only_first or only_second, not longest_first.`);
  }
  let n1 = Math.min(lengthA, lengthB);
  let n2: number;
  if (n1 > budget) n2 = n1;
  else n2 = Math.max(n1, budget - n1);
  if (n1 + n2 > budget) {
    n1 = Math.floor(budget / 2);
    n2 = n1 + (budget % 2);
  }
  const [keepA, keepB] = lengthA > lengthB ? [n2, n1] : [n1, n2];
  return [[[0, Math.min(keepA, lengthA)], [0, Math.min(keepB, lengthB)]]];
}
