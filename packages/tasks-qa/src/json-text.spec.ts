import { describe, expect, it } from 'vitest';
import { findJsonSyntaxError, locateJsonPaths, pathKey } from './json-text.js';

describe('json-text', () => {
  it('locates values by JSON path, escaped keys and a leading BOM included', () => {
    const text = '\uFEFF{"a": [1, {"b\\"c": "x"}],\n  "d": {"e": null}}';
    const at = locateJsonPaths(text, [['a', 1, 'b"c'], ['d', 'e'], ['a', 5]]);
    expect(at.get(pathKey(['a', 1, 'b"c']))).toEqual({ line: 1, column: 21 });
    expect(at.get(pathKey(['d', 'e']))).toEqual({ line: 2, column: 14 });
    expect(at.has(pathKey(['a', 5]))).toBe(false);
  });
  it('finds the first syntax error or none', () => {
    expect(findJsonSyntaxError('{"a": [1, 2.5e3, true, null, "\\u00e9"]}')).toBeUndefined();
    expect(findJsonSyntaxError('{"a": 01}')).toMatchObject({ position: 7, expected: "',' or '}' after a property value" });
    expect(findJsonSyntaxError('{"a": "\\x"}')).toMatchObject({ position: 8 });
    expect(findJsonSyntaxError('[1] [2]')).toMatchObject({ position: 4, expected: 'the end of the text after the top-level value' });
  });
});
