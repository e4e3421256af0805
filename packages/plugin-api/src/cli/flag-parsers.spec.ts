import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { integer, nonNegativeInt, oneOf, positiveInt, positiveNumber } from './flag-parsers.js';

/** The message a parser throws for `value`, or fails the test when it accepts it. */
function rejection(parse: (v: string) => unknown, value: string): string {
  try {
    parse(value);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(value)}`);
}

describe('flag parsers', () => {
  it('positiveInt accepts whole numbers >= 1 and names the flag, the expectation and the value otherwise', () => {
    const parse = positiveInt('--batch-size');
    expect(parse('1')).toBe(1);
    expect(parse('64')).toBe(64);
    expect(parse('+8')).toBe(8);
    expect(rejection(parse, '0')).toBe('--batch-size must be a whole number >= 1, found "0".');
    for (const bad of ['-1', 'abc', '', ' ', '1.5', '2e3', '0x10', 'NaN', 'Infinity', '12abc', ' 7', '99999999999999999999']) {
      expect(rejection(parse, bad)).toContain(`found ${JSON.stringify(bad)}`);
    }
  });

  it('nonNegativeInt accepts 0 but not negatives or fractions', () => {
    const parse = nonNegativeInt('--warmup');
    expect(parse('0')).toBe(0);
    expect(parse('5')).toBe(5);
    expect(rejection(parse, '-1')).toBe('--warmup must be a whole number >= 0, found "-1".');
    expect(rejection(parse, '0.5')).toContain('--warmup');
  });

  it('integer accepts any whole number, including negative ones', () => {
    const parse = integer('--seed');
    expect(parse('13')).toBe(13);
    expect(parse('-4')).toBe(-4);
    expect(parse('0')).toBe(0);
    expect(rejection(parse, 'abc')).toBe('--seed must be a whole number, found "abc".');
    expect(rejection(parse, '1.0e1')).toContain('--seed');
  });

  it('positiveNumber accepts finite decimals > 0', () => {
    const parse = positiveNumber('--lr');
    expect(parse('2e-5')).toBe(2e-5);
    expect(parse('0.5')).toBe(0.5);
    expect(parse('.5')).toBe(0.5);
    expect(parse('3')).toBe(3);
    for (const bad of ['0', '-1', 'abc', '', 'Infinity', '1e400', '0x1', '1,5']) {
      expect(rejection(parse, bad)).toBe(`--lr must be a number > 0, found ${JSON.stringify(bad)}.`);
    }
  });

  it('oneOf accepts exactly the listed values', () => {
    const parse = oneOf('--dtype', ['F16', 'F32']);
    expect(parse('F16')).toBe('F16');
    expect(rejection(parse, 'f16')).toBe('--dtype must be one of F16, F32, found "f16".');
  });
});
