import { describe, expect, it } from 'vitest';
import { conllNerFormat, parseConllNer, wikiannFormat } from './conll-ner-reader.js';
import { errorOf } from './input-error.testing.js';

describe('parseConllNer', () => {
  it('reads WikiANN: TAB-separated, strips a consistent en: prefix', () => {
    const text = 'en:R.H.\tB-ORG\nen:Saunders\tI-ORG\nen:(\tO\n\nen:en:x\tO\nen::\tO\n\n';
    const out = parseConllNer(text, 'train');
    expect(out.map((s) => s.words)).toEqual([['R.H.', 'Saunders', '('], ['en:x', ':']]);
    expect(out[0]!.tags).toEqual(['B-ORG', 'I-ORG', 'O']);
    expect(out[1]!.line).toBe(5);
  });

  it('keeps tokens as they are when the prefix is not on every token (auto) or when asked to', () => {
    const text = 'de:Hu\tB-LOC\nre:x\tO\n';
    expect(parseConllNer(text, 'f')[0]!.words).toEqual(['de:Hu', 're:x']);
    expect(parseConllNer('de:Hu\tB-LOC\n', 'f', { languagePrefix: 'keep' })[0]!.words).toEqual(['de:Hu']);
    expect(parseConllNer('de:Hu\tB-LOC\n', 'f')[0]!.words).toEqual(['Hu']);
  });

  it('with languagePrefix strip, names the line of a token without the prefix', () => {
    const error = errorOf(() => parseConllNer('en:a\tO\n\nb\tO\n', 'f', { languagePrefix: 'strip' }));
    expect(error.issues[0]).toMatchObject({ file: 'f', line: 3 });
  });

  it('reads MasakhaNER: space-separated, I- opening a sentence kept, mixed scripts', () => {
    const text = 'Msimbo B-LOC\nwa I-LOC\n\nosù I-DATE\nkọ̀rin I-DATE\nአዲስ B-LOC\nالقاهرة B-LOC\n\n';
    const out = parseConllNer(text, 'test.txt');
    expect(out.map((s) => s.words)).toEqual([['Msimbo', 'wa'], ['osù', 'kọ̀rin', 'አዲስ', 'القاهرة']]);
    expect(out[1]!.tags).toEqual(['I-DATE', 'I-DATE', 'B-LOC', 'B-LOC']);
  });

  it('ignores -DOCSTART- lines and reads 4-column CoNLL-2003 (token first, tag last)', () => {
    const text = '-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n-DOCSTART- -X- -X- O\nPeter NNP B-NP B-PER\n';
    const out = parseConllNer(text, 'eng');
    expect(out.map((s) => [s.words, s.tags])).toEqual([
      [['EU', 'rejects'], ['B-ORG', 'O']],
      [['Peter'], ['B-PER']],
    ]);
  });

  it('names file:line for wrong column count, empty token and unknown tags', () => {
    const text = 'a O\nb c O\n\n  B-PER\nx PER\ny E-LOC\nz b-loc\n';
    const error = errorOf(() => parseConllNer(text, 'bad.txt'));
    expect(error.issues.map((i) => i.line)).toEqual([2, 4, 5, 6, 7]);
    expect(error.issues[0]!.expected).toMatch(/2 space-separated columns/);
    expect(error.message).toContain('bad.txt:5');
    expect(error.issues[3]!.found).toBe('"E-LOC"');
  });

  it('rejects a TAB file line with one column, an empty file, and an empty token after the prefix', () => {
    expect(errorOf(() => parseConllNer('a\tO\nb\n', 'f')).issues[0]).toMatchObject({ line: 2 });
    expect(errorOf(() => parseConllNer('', 'f')).issues[0]!.found).toBe('an empty file');
    expect(errorOf(() => parseConllNer('en:a\tO\nen:\tO\n', 'f')).issues[0]).toMatchObject({ line: 2, expected: 'a token after the language prefix' });
  });
});

describe('NER format detection', () => {
  it('tells WikiANN (TAB) from space-separated CoNLL', () => {
    expect(wikiannFormat.detect('en/train', 'en:a\tB-PER\n')).toBe(true);
    expect(conllNerFormat.detect('en/train', 'en:a\tB-PER\n')).toBe(false);
    expect(conllNerFormat.detect('test.txt', '-DOCSTART- O\n\nMsimbo B-LOC\n')).toBe(true);
    expect(wikiannFormat.detect('test.txt', 'Msimbo B-LOC\n')).toBe(false);
    expect(conllNerFormat.detect('x.conllu', '1\tI\tI\tPRON\t_\t_\t_\t_\t_\t_\n')).toBe(false);
  });
});
