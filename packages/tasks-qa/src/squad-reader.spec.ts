import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { InputError } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { describe, expect, it } from 'vitest';
import { parseSquadJson, readSquadJson, squadJsonFormat } from './squad-reader.js';

const squad = (data: unknown, version: unknown = '1.1') => JSON.stringify({ version, data }, null, 2);
const article = (context: string, qas: unknown[], title: string | null = 'T') => ({ ...(title !== null ? { title } : {}), paragraphs: [{ context, qas }] });
const qa = (id: string, answers: unknown[], question = 'Who?') => ({ id, question, answers });

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError');
}

describe('parseSquadJson', () => {
  it('reads one example per question, keeping duplicate answers and the title', () => {
    const text = squad([article('Paris is in France.', [qa('q1', [{ text: 'Paris', answer_start: 0 }, { text: 'Paris', answer_start: 0 }]), qa('q2', [{ text: 'France', answer_start: 12 }])])]);
    const examples = parseSquadJson(text, 'dev.json');
    expect(examples.map((e) => e.id)).toEqual(['q1', 'q2']);
    expect(examples[0]).toMatchObject({ title: 'T', context: 'Paris is in France.', question: 'Who?', benchmark: 'squad' });
    expect(examples[0]!.answers).toEqual([{ text: 'Paris', answerStart: 0 }, { text: 'Paris', answerStart: 0 }]);
    expect(examples[0]!.language).toBeUndefined();
  });
  it('accepts TyDiQA-GoldP (no title) and MLQA (numeric version, language from the file name)', () => {
    const tydi = parseSquadJson(squad([article('abc', [qa('t1', [{ text: 'b', answer_start: 1 }])], null)], 'TyDiQA-GoldP-1.1-for-SQuAD-1.1'), 'tydiqa.goldp.fi.dev.json');
    expect(tydi[0]).toMatchObject({ benchmark: 'tydiqa' });
    expect(tydi[0]!.title).toBeUndefined();
    const mlqa = parseSquadJson(squad([article('abc', [qa('m1', [{ text: 'c', answer_start: 2 }])])], 1.0), 'x/dev-context-de-question-de.json');
    expect(mlqa[0]).toMatchObject({ benchmark: 'mlqa', language: 'de' });
    expect(parseSquadJson(squad([article('abc', [qa('m1', [{ text: 'c', answer_start: 2 }])])], 1.0), 'mlqa.json', { language: 'zh' })[0]!.language).toBe('zh');
  });
  it('skips a byte-order mark at the start of the file but keeps U+FEFF at the start of a context', () => {
    const context = '\uFEFFabc def';
    const examples = parseSquadJson(`\uFEFF${squad([article(context, [qa('q', [{ text: 'def', answer_start: 5 }])])])}`, 'bom.json');
    expect(examples[0]!.context).toBe(context);
    expect(examples[0]!.context.slice(5, 8)).toBe('def');
  });
  it('reports a JSON syntax error with line and column', () => {
    const err = inputError(() => parseSquadJson('{\n  "data": [\n    {"title": "x",}\n  ]\n}', 'f.json'));
    expect(err.issues[0]).toMatchObject({ file: 'f.json', line: 3, column: 19 });
    expect(err.message).toMatch(/f\.json:3:19: expected a property name/);
    const cut = inputError(() => parseSquadJson('{"data": [', 'cut.json'));
    expect(cut.issues[0]).toMatchObject({ line: 1, column: 11, found: 'the end of the text' });
  });
  it('reports every problem with its JSON path and line, and outputs nothing', () => {
    const text = squad([
      article('Paris is in France.', [
        qa('q1', [{ text: 'Paris' }]),
        qa('q2', [{ text: 'France', answer_start: 40 }]),
        qa('q3', [{ text: 'Franc', answer_start: 11 }]),
        qa('q1', [{ text: 'Paris', answer_start: 0 }]),
        qa('q5', []),
        { id: 'q6', answers: [{ text: 'is', answer_start: 6 }] },
      ]),
      { title: 'no paragraphs' },
    ]);
    const err = inputError(() => parseSquadJson(text, 'bad.json'));
    const byPath = new Map(err.issues.map((i) => [i.path, i]));
    const qas = 'data[0].paragraphs[0].qas';
    expect(byPath.get(`${qas}[0].answers[0].answer_start`)).toMatchObject({ expected: 'a non-negative integer', found: 'nothing (the field is missing)' });
    expect(byPath.get(`${qas}[1].answers[0].answer_start`)?.expected).toMatch(/inside the context \(context length 19, answer length 6\)/);
    expect(byPath.get(`${qas}[2].answers[0].answer_start`)).toMatchObject({ found: '" Fran"' });
    expect(byPath.get(`${qas}[3].id`)?.found).toMatch(/already at data\[0\]\.paragraphs\[0\]\.qas\[0\]/);
    expect(byPath.get(`${qas}[4].answers`)?.found).toBe('an empty array');
    expect(byPath.get(`${qas}[5].question`)).toBeDefined();
    expect(byPath.get('data[1].paragraphs')).toBeDefined();
    expect(err.issues).toHaveLength(7);
    expect(err.message).toMatch(/bad\.json is not valid SQuAD v1\.1 JSON: 7 problems/);
    // located in the pretty-printed text: the answer_start of qas[1] is on its own line
    const issue = byPath.get(`${qas}[1].answers[0].answer_start`)!;
    expect(text.split('\n')[issue.line! - 1]).toContain('"answer_start": 40');
  });
  it('rejects empty answer texts unless allowEmptyAnswers is set', () => {
    const text = squad([article('abc', [qa('e', [{ text: '', answer_start: 0 }])])]);
    const err = inputError(() => parseSquadJson(text, 'blank.json'));
    expect(err.issues[0]).toMatchObject({ path: 'data[0].paragraphs[0].qas[0].answers[0].text', found: '""' });
    expect(err.message).toMatch(/allowEmptyAnswers/);
    expect(parseSquadJson(text, 'blank.json', { allowEmptyAnswers: true })[0]!.answers).toEqual([{ text: '', answerStart: 0 }]);
  });
  it('rejects a root that is not an object and unanswerable (v2) questions', () => {
    expect(inputError(() => parseSquadJson('[]', 'a.json')).message).toMatch(/a\.json at \(root\): expected a JSON object/);
    const v2 = squad([article('abc', [{ id: 'x', question: 'q', answers: [], is_impossible: true }])], 'v2.0');
    expect(inputError(() => parseSquadJson(v2, 'v2.json')).message).toMatch(/is_impossible: expected answerable questions only/);
  });
});

describe('readSquadJson', () => {
  it('reads gzip-compressed files whatever their name', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, 'dev.json');
      await writeFile(path, gzipSync(squad([article('abc', [qa('g', [{ text: 'a', answer_start: 0 }])])])));
      expect((await readSquadJson(path)).map((e) => e.id)).toEqual(['g']);
    } finally {
      await cleanup();
    }
  });
  it('the squad-json format recognises SQuAD-shaped JSON only', () => {
    expect(squadJsonFormat.detect('x.json', '{\n  "data": [')).toBe(true);
    expect(squadJsonFormat.detect('x.json', '{"version": 1.0, "data": [')).toBe(true);
    expect(squadJsonFormat.detect('x.tsv', 'premise\thypothesis')).toBe(false);
  });
});
