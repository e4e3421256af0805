import { describe, expect, it } from 'vitest';
import { conlluFormat, parseConllu } from './conllu-reader.js';
import { errorOf } from './input-error.testing.js';

const row = (id: string, form: string, upos: string) => [id, form, '_', upos, '_', '_', '_', '_', '_', '_'].join('\t');

const SAMPLE = [
  '# newdoc id = d1',
  '# sent_id = s1',
  '# text = I don\'t know.',
  row('1', 'I', 'PRON'),
  row('2-3', "don't", '_'),
  row('2', 'do', 'AUX'),
  row('3', "n't", 'PART'),
  row('4', 'know', 'VERB'),
  row('4.1', 'knew', 'VERB'),
  row('5', '.', 'PUNCT'),
  '',
  '# sent_id = s2',
  row('1', 'Hi', 'INTJ'),
  '',
].join('\n');

describe('parseConllu', () => {
  it('reads words and UPOS, skipping multi-word ranges and empty nodes, keeping comments', () => {
    const [s1, s2, ...rest] = parseConllu(SAMPLE, 'a.conllu');
    expect(rest).toEqual([]);
    expect(s1!.words).toEqual(['I', 'do', "n't", 'know', '.']);
    expect(s1!.tags).toEqual(['PRON', 'AUX', 'PART', 'VERB', 'PUNCT']);
    expect(s1!.comments).toEqual(['# newdoc id = d1', '# sent_id = s1', "# text = I don't know."]);
    expect(s1!.id).toBe('s1');
    expect(s1!.line).toBe(1);
    expect(s2).toMatchObject({ words: ['Hi'], tags: ['INTJ'], id: 's2', line: 12, file: 'a.conllu' });
  });

  it('reads a file without a final blank line, with CRLF, and with several blank lines', () => {
    const text = `${row('1', 'a', 'X')}\r\n\r\n\r\n${row('1', 'b', 'SYM')}`;
    const out = parseConllu(text, 'f');
    expect(out.map((s) => s.words)).toEqual([['a'], ['b']]);
    expect(out[1]!.line).toBe(4);
  });

  it('keeps an underscore FORM (the literal token "_")', () => {
    expect(parseConllu(row('1', '_', 'PUNCT'), 'f')[0]!.words).toEqual(['_']);
  });

  it('names file and line for a wrong column count', () => {
    const error = errorOf(() => parseConllu(`${row('1', 'a', 'X')}\n1 b X`, 'bad.conllu'));
    expect(error.issues[0]).toMatchObject({ file: 'bad.conllu', line: 2, expected: '10 TAB-separated columns (CoNLL-U)' });
    expect(error.message).toContain('bad.conllu:2');
  });

  it('rejects a bad id, an id out of order, an empty FORM and an unknown UPOS, all at once', () => {
    const text = [row('x', 'a', 'X'), row('3', 'b', 'X'), row('2', '', 'X'), row('3', 'c', 'NN')].join('\n');
    const error = errorOf(() => parseConllu(text, 'f'));
    expect(error.issues.map((i) => i.line)).toEqual([1, 2, 3, 4]);
    expect(error.issues[0]!.found).toBe('"x"');
    expect(error.issues[1]!.expected).toMatch(/word id 1/);
    expect(error.issues[2]!.found).toBe('an empty token');
    expect(error.issues[3]!.expected).toMatch(/UPOS/);
    expect(error.issues[3]!.found).toBe('"NN"');
  });

  it('rejects a sentence made only of comments, and an empty file', () => {
    expect(errorOf(() => parseConllu(`# sent_id = 1\n\n${row('1', 'a', 'X')}\n`, 'f')).issues[0]).toMatchObject({ line: 1 });
    expect(errorOf(() => parseConllu('', 'f')).issues[0]!.found).toBe('an empty file');
  });
});

describe('conlluFormat.detect', () => {
  it('recognises CoNLL-U by name or by content, not NER files', () => {
    expect(conlluFormat.detect('x/en_ewt-ud-dev.conllu.gz', '')).toBe(true);
    expect(conlluFormat.detect('data.txt', `# c\n${row('1', 'a', 'X')}\n`)).toBe(true);
    expect(conlluFormat.detect('data.txt', 'en:a\tO\n')).toBe(false);
  });
});
