import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeTaskConformance } from '@xlt/core/testing';
import { whitespaceTokenizer } from '@xlt/plugin-api/testing';
import { nerTask } from './ner-task.js';
import { posTask } from './pos-task.js';

const fixtures = join(import.meta.dirname, 'fixtures');
// Registration needs the paths now, so the generated files are written synchronously.
const scratch = mkdtempSync(join(tmpdir(), 'xlt-tagging-conformance-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const row = (id: string, form: string, upos: string) => [id, form, '_', upos, '_', '_', '_', '_', '_', '_'].join('\t');

// Compressed copies with names that say nothing: the format must be found from the content.
writeFileSync(join(scratch, 'pos-copy.data'), gzipSync(readFileSync(join(fixtures, 'pos-sample.conllu'))));
writeFileSync(join(scratch, 'ner-copy.data'), gzipSync(readFileSync(join(fixtures, 'wikiann-sample.tsv'))));

// POS: a tag that is not UPOS (line 4), a 9-column token line (line 3, gzip), word ids that skip (line 4).
writeFileSync(join(scratch, 'bad-upos.conllu'), ['# sent_id = b1', row('1', 'Cats', 'NOUN'), row('2', 'nap', 'VERB'), row('3', 'often', 'ADVERB'), ''].join('\n'));
writeFileSync(join(scratch, 'nine-columns.conllu.gz'), gzipSync(['# sent_id = b2', row('1', 'Dogs', 'NOUN'), '2\tbark\t_\tVERB\t_\t_\t_\t_\t_', ''].join('\n')));
writeFileSync(join(scratch, 'skipped-id.conllu'), ['# sent_id = b3', '# text = Birds fly south', row('1', 'Birds', 'NOUN'), row('3', 'fly', 'VERB'), ''].join('\n'));

// NER: a tag outside IOB (line 5), a line with a column more than the first (line 4, space-separated).
writeFileSync(join(scratch, 'bad-tag.tsv'), 'xx:Ana\tB-PER\nxx:runs\tO\n\nxx:in\tO\nxx:Lima\tB_LOC\n');
writeFileSync(join(scratch, 'ragged.txt'), 'Ana B-PER\nruns O\n\nin extra O\nLima B-LOC\n');

describeTaskConformance(posTask, {
  runner: { describe, it, expect, beforeAll },
  files: [
    { path: join(fixtures, 'pos-sample.conllu') },
    { path: join(scratch, 'pos-copy.data') },
    { path: join(scratch, 'pos-copy.data'), format: 'conllu' },
  ],
  tokenizer: whitespaceTokenizer(),
  gold: (examples) => examples.map((e) => ({ tags: e.tags })),
  // Short enough that the longest sentences lose their last words: decode must still give every word a tag.
  maxLength: 14,
  invalidFiles: [
    { source: { path: join(scratch, 'bad-upos.conllu') }, line: 4 },
    { source: { path: join(scratch, 'nine-columns.conllu.gz') }, line: 3 },
    { source: { path: join(scratch, 'skipped-id.conllu') }, line: 4 },
    { source: { path: join(scratch, 'missing.conllu') } },
  ],
});

describeTaskConformance(nerTask, {
  runner: { describe, it, expect, beforeAll },
  files: [
    { path: join(fixtures, 'wikiann-sample.tsv') },
    { path: join(fixtures, 'ner-space.txt') },
    { path: join(fixtures, 'conll4.txt') },
    { path: join(scratch, 'ner-copy.data') },
    { path: join(fixtures, 'ner-space.txt'), format: 'conll' },
  ],
  tokenizer: whitespaceTokenizer(),
  gold: (examples) => examples.map((e) => ({ tags: e.tags })),
  maxLength: 16,
  invalidFiles: [
    { source: { path: join(scratch, 'bad-tag.tsv') }, line: 5 },
    { source: { path: join(scratch, 'ragged.txt') }, line: 4 },
    { source: { path: join(scratch, 'missing.tsv') } },
  ],
});
