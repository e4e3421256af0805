import { InputError } from '@xlt/plugin-api';
import { describe, expect, it } from 'vitest';
import { formatSquadPredictions, parseSquadPredictions } from './predictions.js';
import type { QaExample } from './qa-example.js';

const examples: QaExample[] = ['a', 'b', 'c'].map((id) => ({ id, question: '?', context: 'x', answers: [{ text: 'x', answerStart: 0 }], benchmark: 'squad' }));

describe('SQuAD predictions JSON', () => {
  it('round-trips {id: text} in example order, Unicode and empty answers included', () => {
    const text = formatSquadPredictions(['Paris', '', '北京 «x»'], examples);
    expect(JSON.parse(text)).toEqual({ a: 'Paris', b: '', c: '北京 «x»' });
    expect(parseSquadPredictions(text, 'p.json', examples)).toEqual(['Paris', '', '北京 «x»']);
    // key order in the file does not matter
    expect(parseSquadPredictions('{"c": "3", "a": "1", "b": "2"}', 'p.json', examples)).toEqual(['1', '2', '3']);
  });

  it('lists missing ids, unknown ids and non-string values together', () => {
    let error: unknown;
    try {
      parseSquadPredictions('{"a": 1, "zz": "x", "yy": "y"}', 'p.json', examples);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    const issues = (error as InputError).issues;
    expect(issues).toHaveLength(3);
    expect(issues[0]).toMatchObject({ path: '["a"]', expected: 'an answer text (a string)', found: 'number 1' });
    expect(issues[1]!.found).toBe('no entry for "b", "c"');
    expect(issues[1]!.expected).toMatch(/2 of 3 missing/);
    expect(issues[2]!.found).toBe('2 unknown ids: "zz", "yy"');
  });

  it('reports bad JSON with its line and column, and a non-object root', () => {
    expect(() => parseSquadPredictions('{\n "a": "x"\n "b": "y"}', 'p.json', examples)).toThrow(/p\.json:3:2: expected ',' or '}' after a property value/);
    expect(() => parseSquadPredictions('["a"]', 'p.json', examples)).toThrow(/expected a JSON object mapping question ids/);
  });
});
