import { describe, expect, it } from 'vitest';
import { mixedSegmentation, normalizeMlqaAnswer, normalizeSquadAnswer, pythonSplit } from './answer-normalization.js';

describe('normalizeSquadAnswer (evaluate-v1.1.py)', () => {
  it('lower-cases, drops ASCII punctuation and the articles a/an/the, and collapses whitespace', () => {
    expect(normalizeSquadAnswer('The Quick, brown  fox!')).toBe('quick brown fox');
    expect(normalizeSquadAnswer('an apple a day')).toBe('apple day');
    expect(normalizeSquadAnswer('the the')).toBe('');
    expect(normalizeSquadAnswer('  ')).toBe('');
  });
  it('removes articles only as whole words, after punctuation is gone', () => {
    expect(normalizeSquadAnswer('Theatre and Anna')).toBe('theatre and anna');
    expect(normalizeSquadAnswer('A-ha')).toBe('aha');
    expect(normalizeSquadAnswer('(the) end')).toBe('end');
  });
  it('uses Python 3 Unicode word boundaries, not ASCII ones', () => {
    // "é" is a word character for Python's re, so "the" inside "éthe" is no article.
    expect(normalizeSquadAnswer('Éthe')).toBe('éthe');
    expect(normalizeSquadAnswer('1a')).toBe('1a');
  });
  it('keeps Unicode punctuation, which string.punctuation does not list', () => {
    expect(normalizeSquadAnswer('«Paris»')).toBe('«paris»');
    expect(normalizeSquadAnswer('“Hello,” said the man.')).toBe('“hello” said man');
  });
  it('splits on Python whitespace: NBSP and U+3000 split, U+FEFF and U+200B do not', () => {
    expect(pythonSplit('x\u00a0y\u3000z\x1cw')).toEqual(['x', 'y', 'z', 'w']);
    expect(normalizeSquadAnswer('x\ufeffy\u200bz')).toBe('x\ufeffy\u200bz');
  });
});

describe('normalizeMlqaAnswer (mlqa_evaluation_v1.py)', () => {
  it('drops every Unicode P* character as well as ASCII punctuation and symbols', () => {
    expect(normalizeMlqaAnswer('“Hello,” said the man.', 'en')).toBe('hello said man');
    expect(normalizeMlqaAnswer('«Paris» $5', 'en')).toBe('paris 5');
    expect(normalizeMlqaAnswer('भारत का इतिहास।', 'hi')).toBe('भारत का इतिहास');
    expect(normalizeSquadAnswer('भारत का इतिहास।')).toBe('भारत का इतिहास।');
  });
  it('removes the articles of each language as whole words', () => {
    expect(normalizeMlqaAnswer('El perro de los vecinos', 'es')).toBe('perro de vecinos');
    expect(normalizeMlqaAnswer('Die Katze des Nachbarn, dieser Hund', 'de')).toBe('katze nachbarn dieser hund');
    expect(normalizeMlqaAnswer('cái bàn của tôi', 'vi')).toBe('bàn tôi');
    expect(normalizeMlqaAnswer('the end', 'hi')).toBe('the end');
    expect(normalizeMlqaAnswer('the end', 'de')).toBe('the end');
  });
  it('replaces every Arabic ال with a space, inside words too, as the script does', () => {
    expect(normalizeMlqaAnswer('الكتاب', 'ar')).toBe('كتاب');
    expect(normalizeMlqaAnswer('في المدرسة', 'ar')).toBe('في مدرسة');
    expect(normalizeMlqaAnswer('جمال', 'ar')).toBe('جم');
  });
  it('segments Chinese into one token per ideograph and keeps runs of other characters', () => {
    expect(normalizeMlqaAnswer('北京大学。', 'zh')).toBe('北 京 大 学');
    expect(normalizeMlqaAnswer('2008年北京奥运会', 'zh')).toBe('2008 年 北 京 奥 运 会');
    expect(normalizeMlqaAnswer('The iPhone 6手机', 'zh')).toBe('the iphone 6 手 机');
    // U+3400 lies outside the script's [\u4e00-\u9fa5]: it stays in its run
    expect(mixedSegmentation('a㐀b 中,c')).toEqual(['a㐀b', '中', ',', 'c']);
  });
  it('keeps U+FEFF as a token, as Python does (it is not whitespace there; XQuAD contexts start with it)', () => {
    expect(normalizeMlqaAnswer('\ufeffDie Katze', 'de')).toBe('\ufeff katze');
    expect(normalizeMlqaAnswer('\ufeff北京', 'zh')).toBe('\ufeff 北 京');
    expect(normalizeSquadAnswer('\ufeffThe cat')).toBe('\ufeff cat');
  });
  it('rejects a language the script does not know', () => {
    expect(() => normalizeMlqaAnswer('x', 'fr')).toThrow(/en, es, hi, vi, de, ar, zh; found "fr"/);
  });
});
