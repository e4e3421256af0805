import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { parseLocated } from './document.js';

describe('parseLocated', () => {
  it('parses JSON and YAML and locates a path by line and column', () => {
    const doc = parseLocated('name: x\ngrid:\n  seeds: [1, 2]\n', 'e.yaml');
    expect(doc.value).toEqual({ name: 'x', grid: { seeds: [1, 2] } });
    expect(doc.locate(['grid', 'seeds', 1])).toEqual({ line: 3, column: 14 });
  });

  it('reports an alias bomb as a bad input naming the file, not as an unexpected error', () => {
    const lines = ['a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]'];
    for (const [i, name] of ['b', 'c', 'd', 'e', 'f', 'g'].entries()) {
      const prev = String.fromCharCode('a'.charCodeAt(0) + i);
      lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    let error: unknown;
    try {
      parseLocated(lines.join('\n'), 'bomb.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/bomb\.yaml: expected JSON or YAML whose aliases expand to a reasonable size, found .*alias/i);
  });
});
