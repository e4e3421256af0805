import { InvalidArgumentError } from 'commander';

/**
 * A commander argument parser: turns the flag's text into its value or throws commander's
 * `InvalidArgumentError`, so commander prints `error: option '--x <n>' argument 'abc' is invalid. ...` and exits 1
 * without a stack. Commander passes the previous value as the second argument; these parsers ignore it.
 */
export type FlagParser<T> = (value: string, previous?: unknown) => T;

// Plain decimal notation only: `Number('')` is 0, `Number('0x10')` is 16 and `Number(' 7 ')` is 7, none of which a
// user typing a count means.
const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function reject(flag: string, expected: string, value: string): never {
  throw new InvalidArgumentError(`${flag} must be ${expected}, found ${JSON.stringify(value)}.`);
}

function parseInteger(flag: string, value: string, expected: string, min: number): number {
  const n = Number(value);
  if (!INTEGER.test(value) || !Number.isSafeInteger(n) || n < min) reject(flag, expected, value);
  return n;
}

/** A whole number >= 1 (batch sizes, lengths, counts). */
export function positiveInt(flag: string): FlagParser<number> {
  return (value) => parseInteger(flag, value, 'a whole number >= 1', 1);
}

/** A whole number >= 0. */
export function nonNegativeInt(flag: string): FlagParser<number> {
  return (value) => parseInteger(flag, value, 'a whole number >= 0', 0);
}

/** Any whole number (seeds). */
export function integer(flag: string): FlagParser<number> {
  return (value) => parseInteger(flag, value, 'a whole number', Number.MIN_SAFE_INTEGER);
}

/** A finite number > 0 (rates, sizes in bytes given as decimals). */
export function positiveNumber(flag: string): FlagParser<number> {
  return (value) => {
    const n = Number(value);
    if (!DECIMAL.test(value) || !Number.isFinite(n) || n <= 0) reject(flag, 'a number > 0', value);
    return n;
  };
}

/** One of a fixed set of values, compared exactly. */
export function oneOf<T extends string>(flag: string, choices: readonly T[]): FlagParser<T> {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) reject(flag, `one of ${choices.join(', ')}`, value);
    return value as T;
  };
}

/**
 * A value matching `pattern` (described by `expected`): for values written into scripts or manifests (SLURM
 * `--mem`, `--time`, `--partition`), where a newline or a quote would become a command.
 */
export function matching(flag: string, pattern: RegExp, expected: string): FlagParser<string> {
  return (value) => (pattern.test(value) ? value : reject(flag, expected, value));
}
