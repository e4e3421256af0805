/**
 * Generated malformed data files for every dataset reader of every task plugin (issue #20). Each reader gets a small
 * valid file written here, then ~150 seeded mutants of it; reading a mutant must either give well-formed examples
 * or fail with an XltError that names the file. A TypeError, a RangeError, a SyntaxError, an empty result or a read
 * slower than 5 s is a bug, and the failure shows the seed and the mutant that found it.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskPlugin } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { nliTask } from '@xlt/tasks-nli';
import { QaTask } from '@xlt/tasks-qa';
import { nerTask, posTask } from '@xlt/tasks-tagging';
import { mutants, outcomeOf, reportFailures, showMutant, SLOW_MS, uncleanRejection, type MutationKind } from './malformed-mutations.js';

/** Mutants per reader; `XLT_FAULT_MUTANTS` raises it for a longer hunt (with `XLT_FAULT_SEED` for new ones). */
const MUTANTS_PER_READER = Number(process.env.XLT_FAULT_MUTANTS ?? 150);

/** One reader under test: the task, the format it is asked for, a valid file and the files beside it. */
interface ReaderCase {
  readonly name: string;
  readonly task: TaskPlugin;
  readonly format: string;
  /** File name; what detection sees, so it matters (`.conllu`, `s1.<split>`, MLQA's `context-xx-question-yy`). */
  readonly file: string;
  readonly valid: string;
  readonly kind: MutationKind;
  /** Unmutated siblings the reader needs (SNLI's three files). */
  readonly siblings?: Readonly<Record<string, string>>;
  readonly options?: Record<string, unknown>;
}

const squad = {
  version: '1.1',
  data: [
    {
      title: 'Harbour',
      paragraphs: [
        {
          context: 'The old harbour of Velmar was dredged in 1931 so that steamers could dock beside the fish market.',
          qas: [
            { id: 'h1', question: 'When was the harbour dredged?', answers: [{ text: '1931', answer_start: 41 }] },
            { id: 'h2', question: 'What could dock there?', answers: [{ text: 'steamers', answer_start: 54 }, { text: 'steamers could dock', answer_start: 54 }] },
          ],
        },
      ],
    },
    {
      title: 'Orchard',
      paragraphs: [{ context: 'Apples ripen in the north orchard first.', qas: [{ id: 'o1', question: 'What ripens first?', answers: [{ text: 'Apples', answer_start: 0 }] }] }],
    },
  ],
};
const mlqa = {
  version: 1.0,
  data: [
    {
      title: 'Brücke',
      paragraphs: [
        {
          context: 'Die Brücke über die Lenne wurde 1888 aus rotem Sandstein gebaut.',
          qas: [
            { id: 'm1', question: 'Wann wurde die Brücke gebaut?', answers: [{ text: '1888', answer_start: 32 }] },
            { id: 'm2', question: 'Woraus ist sie?', answers: [{ text: 'rotem Sandstein', answer_start: 41 }] },
          ],
        },
      ],
    },
  ],
};

const CASES: readonly ReaderCase[] = [
  {
    name: 'NLI XNLI TSV',
    task: nliTask as TaskPlugin,
    format: 'xnli-tsv',
    file: 'dev.tsv',
    kind: 'text',
    valid: 'A girl paints a fence.\tA child is painting.\tentailment\nA girl paints a fence.\tThe girl is asleep.\tcontradiction\nA girl paints a fence.\tThe fence is new.\tneutral\n',
  },
  {
    name: 'NLI AmericasNLI TSV',
    task: nliTask as TaskPlugin,
    format: 'americasnli-tsv',
    file: 'dev-anli.tsv',
    kind: 'text',
    valid: 'id\tlanguage\tpremise\thypothesis\tlabel\n1\tqu\tThe river floods in spring.\tWater rises.\tentailment\n2\tqu\tThe river floods in spring.\tThe river is dry.\tcontradiction\n3\tqu\t \tSomething happens.\tneutral\n',
  },
  {
    name: 'NLI JSON Lines',
    task: nliTask as TaskPlugin,
    format: 'nli-jsonl',
    file: 'dev.jsonl',
    kind: 'jsonl',
    valid: [
      { premise: 'Two dogs run on sand.', hypothesis: 'Animals are outside.', label: 'entailment' },
      { sentence1: 'Two dogs run on sand.', sentence2: 'The dogs sleep.', gold_label: 'contradiction', pairID: 'x2' },
      { premise: 'Two dogs run on sand.', hypothesis: 'The beach is crowded.', label: 1, id: 3 },
    ].map((o) => JSON.stringify(o)).join('\n') + '\n',
  },
  {
    name: 'NLI SNLI lines (labels file)',
    task: nliTask as TaskPlugin,
    format: 'snli-lines',
    file: 'labels.dev',
    kind: 'text',
    valid: 'entailment\nneutral\ncontradiction\n',
    siblings: { 's1.dev': 'A man rows a boat . \nA man rows a boat . \nA man rows a boat . \n', 's2.dev': 'Someone is on water . \nThe man is tired . \nThe man is flying . \n' },
  },
  {
    name: 'NLI SNLI lines (premises file)',
    task: nliTask as TaskPlugin,
    format: 'snli-lines',
    file: 's1.test',
    kind: 'text',
    valid: 'A cook stirs a pot . \nA cook stirs a pot . \n',
    siblings: { 's2.test': 'Food is made . \nThe cook swims . \n', 'labels.test': 'entailment\ncontradiction\n' },
  },
  { name: 'QA SQuAD JSON', task: new QaTask() as TaskPlugin, format: 'squad-json', file: 'squad-dev.json', kind: 'json', valid: JSON.stringify(squad, null, 1) + '\n' },
  { name: 'QA MLQA JSON', task: new QaTask() as TaskPlugin, format: 'squad-json', file: 'dev-context-de-question-de.json', kind: 'json', valid: JSON.stringify(mlqa, null, 1) + '\n' },
  {
    name: 'POS CoNLL-U',
    task: posTask as TaskPlugin,
    format: 'conllu',
    file: 'dev.conllu',
    kind: 'text',
    valid: [
      '# sent_id = a1',
      '# text = Kim baked bread .',
      '1\tKim\t_\tPROPN\t_\t_\t2\tnsubj\t_\t_',
      '2\tbaked\t_\tVERB\t_\t_\t0\troot\t_\t_',
      '3\tbread\t_\tNOUN\t_\t_\t2\tobj\t_\t_',
      '4\t.\t_\tPUNCT\t_\t_\t2\tpunct\t_\t_',
      '',
      '# sent_id = a2',
      '1-2\tzum\t_\t_\t_\t_\t_\t_\t_\t_',
      '1\tzu\t_\tADP\t_\t_\t3\tcase\t_\t_',
      '2\tdem\t_\tDET\t_\t_\t3\tdet\t_\t_',
      '3\tHaus\t_\tNOUN\t_\t_\t0\troot\t_\t_',
      '',
    ].join('\n'),
  },
  {
    name: 'NER WikiANN TSV',
    task: nerTask as TaskPlugin,
    format: 'wikiann',
    file: 'dev-wikiann',
    kind: 'text',
    valid: 'sw:Amina\tB-PER\nsw:alienda\tO\nsw:Nairobi\tB-LOC\n\nsw:Benki\tB-ORG\nsw:Kuu\tI-ORG\nsw:imefunga\tO\n',
  },
  {
    name: 'NER CoNLL (space)',
    task: nerTask as TaskPlugin,
    format: 'conll',
    file: 'dev-conll.txt',
    kind: 'text',
    valid: '-DOCSTART- -X- -X- O\n\nOkoro NNP B-NP B-PER\nvisited VBD B-VP O\nLagos NNP B-NP B-LOC\n\nRain NN B-NP O\nstopped VBD B-VP O\n',
  },
];

/** Why a successful read is still wrong: nothing read, or an example that is not whole. */
function badExamples(examples: unknown): string | undefined {
  if (!Array.isArray(examples)) return `not an array: ${typeof examples}`;
  if (examples.length === 0) return 'no examples from a file that had some (a silent skip)';
  const whole = (e: Record<string, unknown>) =>
    'words' in e
      ? Array.isArray(e.words) && Array.isArray(e.tags) && e.words.length === e.tags.length && e.words.length > 0 && [...e.words, ...e.tags].every((s) => typeof s === 'string')
      : 'premise' in e
        ? typeof e.premise === 'string' && typeof e.hypothesis === 'string' && typeof e.label === 'string'
        : typeof e.context === 'string' && typeof e.question === 'string' && typeof e.id === 'string' && Array.isArray(e.answers) && e.answers.length > 0;
  const broken = examples.findIndex((e) => e === null || typeof e !== 'object' || !whole(e as Record<string, unknown>));
  return broken < 0 ? undefined : `example ${broken} is not whole: ${JSON.stringify(examples[broken]).slice(0, 300)}`;
}

let root: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  root = await tempDir('xlt-malformed-readers-');
});
afterAll(() => root?.cleanup());

describe.each(CASES)('$name reader under malformed input', (c) => {
  const dir = () => join(root.dir, c.name.replace(/\W+/g, '-'));
  const prepare = async (files: Record<string, string | Buffer>) => {
    await rm(dir(), { recursive: true, force: true });
    await mkdir(dir(), { recursive: true });
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir(), name), content);
  };

  it('reads its valid file, plain and gzipped', async () => {
    await prepare({ ...c.siblings, [c.file]: c.valid });
    const plain = await c.task.read({ path: join(dir(), c.file), format: c.format }, c.options ?? {});
    expect(badExamples(plain)).toBeUndefined();
    // Detection must find the format on its own too, or the mutants read without a format test nothing.
    expect(await c.task.read({ path: join(dir(), c.file) }, c.options ?? {})).toEqual(plain);
    // Readers know gzip by its bytes, whatever the name; and a `.gz` name must not hide the format from detection.
    await prepare({ ...c.siblings, [c.file]: gzipSync(c.valid), [`${c.file}.gz`]: gzipSync(c.valid) });
    expect((await c.task.read({ path: join(dir(), c.file), format: c.format }, c.options ?? {})).length).toBe(plain.length);
    expect((await c.task.read({ path: join(dir(), `${c.file}.gz`) }, c.options ?? {})).length).toBe(plain.length);
  });

  it(`gives examples or a clean InputError for ${MUTANTS_PER_READER} seeded mutants`, async () => {
    await prepare({ ...c.siblings });
    const path = join(dir(), c.file);
    const failures: string[] = [];
    const ops = new Map<string, { ok: number; rejected: number }>();
    for (const [i, m] of mutants(Buffer.from(c.valid), MUTANTS_PER_READER, c.kind).entries()) {
      await writeFile(path, m.bytes);
      // Half with the format named, half detected: detection is a path bad input takes too.
      const source = i % 2 === 0 ? { path, format: c.format } : { path };
      const outcome = await outcomeOf(() => c.task.read(source, c.options ?? {}));
      const problem =
        outcome.ms > SLOW_MS ? `took ${Math.round(outcome.ms)} ms` : outcome.ok ? badExamples(outcome.value) : uncleanRejection(outcome.error, path);
      const tally = ops.get(m.op) ?? { ok: 0, rejected: 0 };
      tally[outcome.ok ? 'ok' : 'rejected']++;
      ops.set(m.op, tally);
      if (problem) failures.push(`${showMutant(m)}\n  read ${JSON.stringify(source)}\n  → ${problem}`);
    }
    reportFailures(`${c.name}`, failures);
    // Guards the generator: if nothing was rejected, the mutants were not malformed and the test proved nothing.
    expect([...ops.values()].reduce((n, t) => n + t.rejected, 0)).toBeGreaterThan(MUTANTS_PER_READER / 3);
  });
});
