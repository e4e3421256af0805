import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeTaskConformance } from '@xlt/core/testing';
import { whitespaceTokenizer } from '@xlt/plugin-api/testing';
import { nliTask } from './nli-task.js';

const fixtures = join(import.meta.dirname, 'fixtures');
// Registration needs the paths now, so the broken files are written synchronously.
const broken = mkdtempSync(join(tmpdir(), 'xlt-nli-conformance-'));
afterAll(() => rmSync(broken, { recursive: true, force: true }));
writeFileSync(join(broken, 'bad-label.tsv'), 'A premise.\tA hypothesis.\tentailment\nA premise.\tA hypothesis.\tmaybe\n');
writeFileSync(join(broken, 'two-fields.tsv.gz'), gzipSync('A premise.\tA hypothesis.\tneutral\nonly\ttwo\n'));
writeFileSync(join(broken, 'pairs.jsonl'), '{"premise": "a", "hypothesis": "b", "label": "neutral"}\n{"premise": "a", "label": "neutral"}\n');

describeTaskConformance(nliTask, {
  runner: { describe, it, expect, beforeAll },
  files: [
    { path: join(fixtures, 'pairs.tsv') },
    { path: join(fixtures, 'americas.tsv') },
    { path: join(fixtures, 'labels.train') },
    { path: join(fixtures, 'pairs.jsonl') },
    { path: join(fixtures, 'pairs.tsv'), format: 'xnli-tsv' },
  ],
  tokenizer: whitespaceTokenizer(),
  gold: (examples) => examples.map((e) => e.label),
  maxLength: 12,
  invalidFiles: [
    { source: { path: join(broken, 'bad-label.tsv') }, line: 2 },
    { source: { path: join(broken, 'two-fields.tsv.gz'), format: 'xnli-tsv' }, line: 2 },
    { source: { path: join(broken, 'pairs.jsonl') }, line: 2 },
    { source: { path: join(broken, 'missing.tsv') } },
  ],
});
