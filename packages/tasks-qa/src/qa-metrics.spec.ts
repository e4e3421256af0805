import { describe, expect, it } from 'vitest';
import { mlqaScores, squadScores, tokenF1 } from './qa-metrics.js';

describe('squadScores', () => {
  it('takes the max over gold answers and averages in percent', () => {
    const s = squadScores([['Denver Broncos', 'The Denver Broncos'], ['Paris']], ['Broncos', 'paris.']);
    expect(s.exact_match).toBeCloseTo(50, 10);
    expect(s.f1).toBeCloseTo(((2 / 3) * 100 + 100) / 2, 10);
  });
  it('counts repeated tokens as a multiset intersection', () => {
    expect(tokenF1('x x y', 'x y y')).toBeCloseTo(2 / 3, 12);
  });
  it('tolerates duplicate gold answers', () => {
    expect(squadScores([['the Eiffel Tower', 'the Eiffel Tower', 'Eiffel']], ['Eiffel Tower'])).toEqual({ exact_match: 100, f1: 100 });
  });
  it('scores an empty prediction 0, except EM against a gold answer that normalizes to nothing', () => {
    expect(squadScores([['Paris']], [''])).toEqual({ exact_match: 0, f1: 0 });
    expect(squadScores([['The']], [''])).toEqual({ exact_match: 100, f1: 0 });
    expect(squadScores([['The']], ['an'])).toEqual({ exact_match: 100, f1: 0 });
  });
  it('rejects mismatched lengths and an empty set', () => {
    expect(() => squadScores([['a']], [])).toThrow(/1 questions/);
    expect(() => squadScores([], [])).toThrow(/empty/);
  });
});

describe('mlqaScores', () => {
  it('differs from SQuAD on Unicode punctuation', () => {
    expect(mlqaScores([['«Paris»']], ['Paris'], 'en')).toEqual({ exact_match: 100, f1: 100 });
    expect(squadScores([['«Paris»']], ['Paris'])).toEqual({ exact_match: 0, f1: 0 });
  });
  it('gives partial F1 on Chinese character tokens', () => {
    const s = mlqaScores([['北京大学']], ['北京'], 'zh');
    expect(s.exact_match).toBe(0);
    expect(s.f1).toBeCloseTo((2 * 1 * 0.5) / 1.5 * 100, 10);
    // SQuAD sees one token each and scores nothing
    expect(squadScores([['北京大学']], ['北京']).f1).toBe(0);
  });
  it('ignores the Arabic article and the German articles', () => {
    expect(mlqaScores([['الكتاب']], ['كتاب'], 'ar').exact_match).toBe(100);
    expect(mlqaScores([['der Hund']], ['Hund'], 'de').exact_match).toBe(100);
    expect(mlqaScores([['der Hund']], ['Hund'], 'en').exact_match).toBe(0);
  });
  it('rejects an unknown language', () => {
    expect(() => mlqaScores([['a']], ['a'], 'xx')).toThrow(/found "xx"/);
  });
});
