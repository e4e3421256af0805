import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeTaskConformance } from '@xlt/core/testing';
import { whitespaceTokenizer } from '@xlt/plugin-api/testing';
import { QaTask } from './qa-task.js';

const fixtures = join(import.meta.dirname, 'fixtures');
// Registration needs the paths now, so the generated files are written synchronously.
const scratch = mkdtempSync(join(tmpdir(), 'xlt-qa-conformance-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * A copy of a fixture with its question ids prefixed: the suite pools the examples of all files, and predictions are
 * keyed by id, so a repeated id would hide a missing prediction.
 */
const renamedCopy = (fixture: string, prefix: string) => readFileSync(join(fixtures, fixture), 'utf8').replace(/"id": "/g, `"id": "${prefix}`);
// A compressed copy whose name says nothing: the format must be found from the content.
writeFileSync(join(scratch, 'squad-copy.data'), gzipSync(renamedCopy('squad-sample.json', 'gz-')));
// Read with the format named.
writeFileSync(join(scratch, 'tydiqa-copy.txt'), renamedCopy('tydiqa-sample.json', 'named-'));

// A missing comma between two keys on line 3.
writeFileSync(join(scratch, 'syntax.json'), ['{', '  "version": "1.1",', '  "data": [{"title": "T" "paragraphs": []}]', '}', ''].join('\n'));
// The second question's answer is not at its answer_start (line 6): "dawn" starts at 14.
writeFileSync(
  join(scratch, 'offset.json'),
  [
    '{',
    '  "version": "1.1",',
    '  "data": [{"title": "Birds", "paragraphs": [',
    '    {"context": "Birds sing at dawn near the old mill.", "qas": [',
    '      {"id": "b1", "question": "Who sings?", "answers": [{"text": "Birds", "answer_start": 0}]},',
    '      {"id": "b2", "question": "When do they sing?", "answers": [{"text": "dawn", "answer_start": 15}]}',
    '    ]}',
    '  ]}]',
    '}',
    '',
  ]
    .join('\n'),
);

describeTaskConformance(new QaTask(), {
  runner: { describe, it, expect, beforeAll },
  files: [
    { path: join(fixtures, 'squad-sample.json') },
    { path: join(fixtures, 'tydiqa-sample.json') },
    { path: join(fixtures, 'dev-context-es-question-es.json') },
    { path: join(scratch, 'squad-copy.data') },
    { path: join(scratch, 'tydiqa-copy.txt'), format: 'squad-json' },
  ],
  tokenizer: whitespaceTokenizer(),
  gold: (examples) => examples.map((e) => e.answers[0]!.text),
  // The long paragraph needs several windows at this length, so decoding has to merge them.
  maxLength: 32,
  options: { docStride: 8 },
  noLabels: true,
  invalidFiles: [
    { source: { path: join(scratch, 'syntax.json') }, line: 3 },
    { source: { path: join(scratch, 'offset.json') }, line: 6 },
    { source: { path: join(scratch, 'missing.json') } },
  ],
});
