import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { normalizeLabel } from './labels.js';
import { nliFormatOf, readNli } from './read-nli.js';
import { snliSiblings } from './snli-files-reader.js';

const fixtures = join(import.meta.dirname, 'fixtures');

async function readError(promise: Promise<unknown>): Promise<InputError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(InputError);
  return error as InputError;
}

describe('normalizeLabel', () => {
  it('maps every spelling to the fixed labels, HF numbering for numbers', () => {
    expect(['entailment', 'Entailment', ' NEUTRAL ', 'contradictory', 'Contradiction'].map(normalizeLabel)).toEqual([
      'entailment', 'entailment', 'neutral', 'contradiction', 'contradiction',
    ]);
    expect([0, 1, 2, '0', '1', '2'].map(normalizeLabel)).toEqual(['entailment', 'neutral', 'contradiction', 'entailment', 'neutral', 'contradiction']);
    expect([3, 1.5, '-', '', null, 'entails'].map(normalizeLabel)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });
});

describe('XNLI TSV', () => {
  it('reads premise, hypothesis, label with U+FEFF inside a premise kept and labels normalised', async () => {
    const examples = await readNli({ path: join(fixtures, 'pairs.tsv') });
    expect(examples.map((e) => e.label)).toEqual(['entailment', 'contradiction', 'neutral', 'entailment', 'neutral', 'contradiction']);
    expect(examples[4]!.premise).toBe('\uFEFFA word joiner\uFEFF sits inside this premise.');
    expect(examples[1]).toMatchObject({ premise: 'The cat sleeps on the warm mat.', hypothesis: 'The cat is chasing a mouse outside.', line: 2 });
  });

  describe('in files we write', () => {
    let dir: string;
    let cleanup: () => Promise<void>;
    beforeEach(async () => ({ dir, cleanup } = await tempDir()));
    afterEach(() => cleanup());

    it('accepts CRLF line ends and gzip whatever the name', async () => {
      const path = join(dir, 'dev-xx.tsv');
      await writeFile(path, gzipSync('P one.\tH one.\tneutral\r\nP two.\tH two.\t2\r\n'));
      const examples = await readNli({ path });
      expect(examples.map((e) => [e.premise, e.hypothesis, e.label])).toEqual([
        ['P one.', 'H one.', 'neutral'],
        ['P two.', 'H two.', 'contradiction'],
      ]);
    });

    it('reports every bad row with file:line, what was expected and found', async () => {
      const path = join(dir, 'bad.tsv');
      await writeFile(path, 'P.\tH.\tneutral\nP.\tH.\tunknown\nP.\tH.\nP.\tH.\tentailment\n');
      const error = await readError(readNli({ path, format: 'xnli-tsv' }));
      expect(error.issues).toHaveLength(2);
      expect(error.message).toContain(`${path}:2: expected an NLI label`);
      expect(error.message).toContain('found "unknown"');
      expect(error.message).toContain(`${path}:3: expected 3 TAB-separated fields`);
    });

    it('names the format ids when an unknown format is asked for', async () => {
      const path = join(dir, 'x.tsv');
      await writeFile(path, 'P.\tH.\tneutral\n');
      const error = await readError(readNli({ path, format: 'csv' }));
      expect(error.message).toContain('xnli-tsv, americasnli-tsv, snli-lines, nli-jsonl');
    });

    it('refuses a file it cannot recognise, asking for a format', async () => {
      const path = join(dir, 'notes.txt');
      await writeFile(path, 'just some text\n');
      const error = await readError(readNli({ path }));
      expect(error.message).toContain('Cannot tell the NLI format');
      expect(error.message).toContain(`${path}:1`);
    });
  });
});

describe('AmericasNLI TSV', () => {
  it('finds the columns by header name and keeps spaces, single-space premises included', async () => {
    const examples = await readNli({ path: join(fixtures, 'americas.tsv') });
    expect(examples).toHaveLength(4);
    expect(examples[0]).toMatchObject({ id: '101', premise: '  Rain fell all night over the valley. ', label: 'entailment', line: 2 });
    expect(examples[1]!.hypothesis).toBe(' The valley stayed dry. ');
    expect(examples[2]!.premise).toBe(' ');
  });

  it('reads the 2021 release without an id column and the official XNLI header', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(join(dir, 'a.tsv'), 'language\tpremise\thypothesis\tlabel\nxx\tP.\tH.\tneutral\n');
      await writeFile(
        join(dir, 'xnli.dev.tsv'),
        'language\tgold_label\tsentence1\tsentence2\tlabel1\nxx\tcontradiction\tP1.\tH1.\tneutral\n',
      );
      expect(await readNli({ path: join(dir, 'a.tsv') })).toMatchObject([{ premise: 'P.', hypothesis: 'H.', label: 'neutral' }]);
      const official = await readNli({ path: join(dir, 'xnli.dev.tsv') });
      expect(official).toMatchObject([{ premise: 'P1.', hypothesis: 'H1.', label: 'contradiction' }]);
      expect(official[0]!.id).toBeUndefined();
      await writeFile(join(dir, 'b.tsv'), 'id\tpremise\thypothesis\tlabel\n1\tP.\tH.\tfoo\n2\tP.\tH.\n');
      const error = await readError(readNli({ path: join(dir, 'b.tsv') }));
      expect(error.message).toContain(`${join(dir, 'b.tsv')}:2`);
      expect(error.message).toContain(`${join(dir, 'b.tsv')}:3: expected 4 TAB-separated fields`);
    } finally {
      await cleanup();
    }
  });
});

describe('SNLI three-file layout', () => {
  it('reads the split from any of its three files, sentences as written', async () => {
    for (const name of ['s1.train', 's2.train', 'labels.train']) {
      const examples = await readNli({ path: join(fixtures, name) });
      expect(examples.map((e) => e.label)).toEqual(['entailment', 'contradiction', 'entailment']);
      expect(examples[0]).toMatchObject({ premise: 'A man reads a newspaper on a bench . ', hypothesis: 'A person is reading . ', line: 1 });
    }
  });

  describe('in files we write', () => {
    let dir: string;
    let cleanup: () => Promise<void>;
    beforeEach(async () => ({ dir, cleanup } = await tempDir()));
    afterEach(() => cleanup());

    it('finds gzipped siblings, also from s1.dev.gz, and mixed compression', async () => {
      await writeFile(join(dir, 's1.dev.gz'), gzipSync('P a . \nP b . \n'));
      await writeFile(join(dir, 's2.dev.gz'), gzipSync('H a . \nH b . \n'));
      await writeFile(join(dir, 'labels.dev'), 'neutral\nentailment\n');
      expect(snliSiblings(join(dir, 's1.dev.gz'))).toEqual({
        premises: join(dir, 's1.dev.gz'),
        hypotheses: join(dir, 's2.dev.gz'),
        labels: join(dir, 'labels.dev'),
      });
      const examples = await readNli({ path: join(dir, 's1.dev.gz') });
      expect(examples.map((e) => [e.premise, e.hypothesis, e.label])).toEqual([
        ['P a . ', 'H a . ', 'neutral'],
        ['P b . ', 'H b . ', 'entailment'],
      ]);
      expect(await readNli({ path: join(dir, 'labels.dev') })).toEqual(examples);
    });

    it('refuses files whose line counts differ, naming the counts', async () => {
      await writeFile(join(dir, 's1.test'), 'P a . \nP b . \n');
      await writeFile(join(dir, 's2.test'), 'H a . \nH b . \n');
      await writeFile(join(dir, 'labels.test'), 'neutral\n');
      const error = await readError(readNli({ path: join(dir, 's2.test') }));
      expect(error.message).toContain('line-aligned');
      expect(error.message).toContain('found 1 lines');
      expect(error.message).toContain(`${join(dir, 's1.test')} (2)`);
    });

    it('refuses a missing sibling and a bad label with file:line', async () => {
      await writeFile(join(dir, 's1.x'), 'P . \n');
      await writeFile(join(dir, 's2.x'), 'H . \n');
      const missing = await readError(readNli({ path: join(dir, 's1.x') }));
      expect(missing.message).toContain(join(dir, 'labels.x'));
      await writeFile(join(dir, 'labels.x'), '-\n');
      const bad = await readError(readNli({ path: join(dir, 's1.x') }));
      expect(bad.message).toContain(`${join(dir, 'labels.x')}:1: expected an NLI label`);
    });
  });
});

describe('JSON Lines', () => {
  it('reads both key spellings, numeric labels and ids, skipping blank lines', async () => {
    const examples = await readNli({ path: join(fixtures, 'pairs.jsonl') });
    expect(examples.map((e) => [e.label, e.line, e.id])).toEqual([
      ['entailment', 1, undefined],
      ['contradiction', 3, 'p2'],
      ['neutral', 4, '7'],
    ]);
    expect(examples[1]!.hypothesis).toBe('The chef is asleep.');
  });

  it('detects JSON Lines from the content when the name says nothing', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, 'data.txt');
      await copyFile(join(fixtures, 'pairs.jsonl'), path);
      expect(nliFormatOf({ path }, '{"premise": "x"}').id).toBe('nli-jsonl');
      expect(await readNli({ path })).toHaveLength(3);
      await writeFile(path, '{"premise": "a", "hypothesis": "b", "label": "maybe"}\n[1]\n{bad\n');
      const error = await readError(readNli({ path }));
      expect(error.message).toContain(`${path}:1 at label: expected an NLI label`);
      expect(error.message).toContain(`${path}:2: expected a JSON object, found an array of 1`);
      expect(error.message).toContain(`${path}:3: expected a JSON object, found invalid JSON`);
    } finally {
      await cleanup();
    }
  });
});
