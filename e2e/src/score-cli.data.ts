import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreModule } from '@xlt/core';
import { createEngine, type Engine, type TaskPlugin } from '@xlt/plugin-api';
import { sharedPath, tempDir } from '@xlt/plugin-api/testing';
import { nliModule } from '@xlt/tasks-nli';
import { qaModule, type QaExample } from '@xlt/tasks-qa';
import { taggingModule, type TaggedSentence, type TagPrediction } from '@xlt/tasks-tagging';
import { repoRoot } from './pack.js';
import { xlt } from './run-xlt.js';

// GitHub issue #6: `xlt score` works for all four tasks on the real files in ../shared/data.


/** `xlt score`, which must succeed and print one JSON object of metrics. */
async function score(task: string, gold: string, pred: string, lang?: string): Promise<Record<string, number>> {
  const out = await xlt(['score', '--task', task, '--gold', gold, '--pred', pred, ...(lang ? ['--lang', lang] : [])]);
  expect(out.code, `xlt score --task ${task} failed:\n${out.stderr}`).toBe(0);
  return JSON.parse(out.stdout) as Record<string, number>;
}

const UPOS_CHANGE = (tag: string) => (tag === 'X' ? 'NOUN' : 'X');
const NLI_CHANGE: Record<string, string> = { entailment: 'neutral', neutral: 'contradiction', contradiction: 'entailment' };

/** IOB2 chunk starts as seqeval's default mode (conlleval) counts them: every B-X, and an I-X not continuing an X. */
function chunkStarts(tags: readonly string[]): string[] {
  const types: string[] = [];
  tags.forEach((tag, i) => {
    if (tag === 'O') return;
    const type = tag.slice(2);
    const prev = i === 0 ? 'O' : tags[i - 1]!;
    if (tag.startsWith('B-') || prev === 'O' || prev.slice(2) !== type) types.push(type);
  });
  return types;
}

describe('xlt score on the real benchmark files (issue #6)', () => {
  let engine: Engine;
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    engine = await createEngine([coreModule, nliModule, qaModule, taggingModule]);
    ({ dir, cleanup } = await tempDir('xlt-score-cli-'));
  });
  afterAll(() => cleanup());

  /** Reads a gold file as `xlt score` does and writes predictions through the task's own format. */
  async function goldAndWrite<E, P>(taskId: string, path: string, language: string | undefined, make: (examples: E[]) => Record<string, P[]>) {
    const task = engine.tasks.get(taskId) as unknown as TaskPlugin<E, never, P>;
    const examples = await task.read({ path, ...(language ? { language } : {}) }, {});
    const files: Record<string, string> = {};
    for (const [name, predictions] of Object.entries(make(examples))) {
      files[name] = join(dir, `${taskId}-${name}.pred`);
      await writeFile(files[name], task.formatPredictions(predictions, examples));
    }
    return { examples, files, task };
  }

  it('nli (XNLI dev de): gold 100, every 10th label changed exactly (n - changed) / n', async () => {
    const gold = sharedPath('data', 'nli', 'xnli', 'dev-de.tsv.gz');
    let changed = 0;
    const { examples, files } = await goldAndWrite<{ label: string }, string>('nli', gold, undefined, (ex) => ({
      gold: ex.map((e) => e.label),
      corrupted: ex.map((e, i) => (i % 10 === 0 ? (changed++, NLI_CHANGE[e.label]!) : e.label)),
    }));
    expect(examples).toHaveLength(2490);
    expect(changed).toBe(249);

    const perfect = await score('nli', gold, files.gold!);
    expect(Object.keys(perfect)).toEqual(['accuracy']);
    expect(perfect.accuracy).toBe(100);
    const worse = await score('nli', gold, files.corrupted!);
    expect(worse.accuracy).toBeCloseTo(((examples.length - changed) / examples.length) * 100, 9);
  });

  it('pos (UD de PUD): gold 100, every 10th word mistagged exactly (words - changed) / words', async () => {
    const gold = sharedPath('data', 'pos', 'de_pud-ud-test.conllu.gz');
    let word = 0;
    let changed = 0;
    const { examples, files } = await goldAndWrite<TaggedSentence, TagPrediction>('pos', gold, undefined, (ex) => ({
      gold: ex.map((e) => ({ tags: e.tags })),
      corrupted: ex.map((e) => ({ tags: e.tags.map((t) => (word++ % 10 === 0 ? (changed++, UPOS_CHANGE(t)) : t)) })),
    }));
    const words = examples.reduce((n, e) => n + e.words.length, 0);
    expect(examples).toHaveLength(1000);
    expect(words).toBe(21332);

    const perfect = await score('pos', gold, files.gold!);
    expect(perfect).toEqual({ accuracy: 100, unseen_labels: 0 });
    const worse = await score('pos', gold, files.corrupted!);
    expect(changed).toBe(Math.ceil(words / 10));
    expect(worse.accuracy).toBeCloseTo(((words - changed) / words) * 100, 9);
    expect(worse.unseen_labels).toBe(0);
  });

  it('ner (WikiANN de test): gold 100, every 10th sentence all O loses exactly its entities', async () => {
    const gold = sharedPath('data', 'ner', 'wikiann', 'de', 'test.gz');
    const { examples, files } = await goldAndWrite<TaggedSentence, TagPrediction>('ner', gold, undefined, (ex) => ({
      gold: ex.map((e) => ({ tags: e.tags })),
      corrupted: ex.map((e, k) => ({ tags: k % 10 === 0 ? e.tags.map(() => 'O') : e.tags })),
    }));
    expect(examples).toHaveLength(10_000);
    // The language prefix `de:` is stripped, as the task reads WikiANN.
    expect(examples.some((e) => e.words.some((w) => w.startsWith('de:')))).toBe(false);

    const entities = new Map<string, { all: number; lost: number }>();
    let tokens = 0;
    let lostTokens = 0;
    examples.forEach((e, k) => {
      tokens += e.tags.length;
      if (k % 10 === 0) lostTokens += e.tags.filter((t) => t !== 'O').length;
      for (const type of chunkStarts(e.tags)) {
        const n = entities.get(type) ?? { all: 0, lost: 0 };
        n.all++;
        if (k % 10 === 0) n.lost++;
        entities.set(type, n);
      }
    });
    const types = [...entities.keys()].sort();
    expect(types).toEqual(['LOC', 'ORG', 'PER']);

    const perfect = await score('ner', gold, files.gold!);
    const names = ['precision', 'recall', 'f1', 'strict_precision', 'strict_recall', 'strict_f1', 'accuracy', 'unseen_labels'];
    for (const t of types) names.push(`precision_${t}`, `recall_${t}`, `f1_${t}`);
    expect(Object.keys(perfect).sort()).toEqual(names.sort());
    for (const name of names) expect(perfect[name], name).toBe(name === 'unseen_labels' ? 0 : 100);

    const worse = await score('ner', gold, files.corrupted!);
    const all = [...entities.values()].reduce((n, c) => n + c.all, 0);
    const lost = [...entities.values()].reduce((n, c) => n + c.lost, 0);
    expect(lost).toBeGreaterThan(0);
    // Nothing spurious is predicted: precision stays 100, recall drops by the lost entities.
    const recall = (all - lost) / all;
    expect(worse.precision).toBeCloseTo(100, 9);
    expect(worse.strict_precision).toBeCloseTo(100, 9);
    expect(worse.recall).toBeCloseTo(100 * recall, 9);
    expect(worse.f1).toBeCloseTo((100 * 2 * recall) / (1 + recall), 9);
    expect(worse.accuracy).toBeCloseTo((100 * (tokens - lostTokens)) / tokens, 9);
    for (const [type, c] of entities) {
      expect(worse[`recall_${type}`], type).toBeCloseTo((100 * (c.all - c.lost)) / c.all, 9);
      expect(worse[`precision_${type}`], type).toBeCloseTo(100, 9);
    }
  });

  it('qa (XQuAD de, --lang de): gold 100, every 10th answer emptied exactly (n - emptied) / n for EM and F1', async () => {
    const gold = sharedPath('data', 'qa', 'xquad', 'xquad.de.json.gz');
    let emptied = 0;
    const { examples, files } = await goldAndWrite<QaExample, string>('qa', gold, 'de', (ex) => ({
      gold: ex.map((e) => e.answers[0]!.text),
      corrupted: ex.map((e, i) => (i % 10 === 0 ? (emptied++, '') : e.answers[0]!.text)),
    }));
    expect(examples).toHaveLength(1190);
    expect(emptied).toBe(119);

    const perfect = await score('qa', gold, files.gold!, 'de');
    expect(perfect).toEqual({ exact_match: 100, f1: 100 });
    const worse = await score('qa', gold, files.corrupted!, 'de');
    const expected = ((examples.length - emptied) / examples.length) * 100;
    expect(worse.exact_match).toBeCloseTo(expected, 9);
    expect(worse.f1).toBeCloseTo(expected, 9);
  });

  it('qa (MLQA de, --lang de): scored by the MLQA script, which ignores German articles', async () => {
    const gold = sharedPath('data', 'qa', 'mlqa', 'dev-context-de-question-de.json.gz');
    let emptied = 0;
    let prefixed = 0;
    const { examples, files } = await goldAndWrite<QaExample, string>('qa', gold, 'de', (ex) => ({
      gold: ex.map((e) => e.answers[0]!.text),
      // Every 10th answer emptied; every 10th (shifted by 5) gets a leading article, which only MLQA's de rule drops.
      corrupted: ex.map((e, i) => (i % 10 === 0 ? (emptied++, '') : i % 10 === 5 ? (prefixed++, `Der ${e.answers[0]!.text}`) : e.answers[0]!.text)),
    }));
    expect(examples).toHaveLength(512);
    expect(emptied).toBe(52);
    expect(prefixed).toBe(51);

    const perfect = await score('qa', gold, files.gold!, 'de');
    expect(perfect).toEqual({ exact_match: 100, f1: 100 });
    const worse = await score('qa', gold, files.corrupted!, 'de');
    const expected = ((examples.length - emptied) / examples.length) * 100;
    expect(worse.exact_match).toBeCloseTo(expected, 9);
    expect(worse.f1).toBeCloseTo(expected, 9);
  });

  describe('malformed predictions: exit code 1, a message naming the file and where, nothing on stdout', () => {
    it('pos: a tag line missing in sentence 5 is reported at the line where sentence 5 starts', async () => {
      const gold = sharedPath('data', 'pos', 'de_pud-ud-test.conllu.gz');
      const task = engine.tasks.get('pos') as unknown as TaskPlugin<TaggedSentence, never, TagPrediction>;
      const examples = await task.read({ path: gold }, {});
      const lines = task.formatPredictions(examples.map((e) => ({ tags: e.tags })), examples).split('\n');
      // Sentences 1-4 take one line per word and a blank line each.
      const start = examples.slice(0, 4).reduce((n, e) => n + e.words.length + 1, 0) + 1;
      lines.splice(start, 1); // the second tag line of sentence 5
      const pred = join(dir, 'pos-missing-line.pred');
      await writeFile(pred, lines.join('\n'));

      const out = await xlt(['score', '--task', 'pos', '--gold', gold, '--pred', pred]);
      expect(out.code, out.stderr).toBe(1);
      expect(out.stdout).toBe('');
      expect(out.stderr).toContain(`${pred}:${start}`);
      expect(out.stderr).toContain(`${examples[4]!.words.length} tags for sentence 5`);
      expect(out.stderr).not.toContain('unexpected error');
    });

    it('nli: a deleted line names the file and both counts; an emptied line names file:line', async () => {
      const gold = sharedPath('data', 'nli', 'xnli', 'dev-de.tsv.gz');
      const task = engine.tasks.get('nli');
      const examples = (await task.read({ path: gold }, {})) as { label: string }[];
      const lines = examples.map((e) => e.label);

      const deleted = join(dir, 'nli-deleted-line.pred');
      await writeFile(deleted, `${lines.filter((_, i) => i !== 1000).join('\n')}\n`);
      const short = await xlt(['score', '--task', 'nli', '--gold', gold, '--pred', deleted]);
      expect(short.code, short.stderr).toBe(1);
      expect(short.stdout).toBe('');
      expect(short.stderr).toContain(deleted);
      expect(short.stderr).toMatch(/2490 lines.*found 2489 lines/);

      const emptied = join(dir, 'nli-empty-line.pred');
      await writeFile(emptied, `${lines.map((l, i) => (i === 1000 ? '' : l)).join('\n')}\n`);
      const blank = await xlt(['score', '--task', 'nli', '--gold', gold, '--pred', emptied]);
      expect(blank.code, blank.stderr).toBe(1);
      expect(blank.stdout).toBe('');
      expect(blank.stderr).toContain(`${emptied}:1001`);
    });

    it('qa: a question without a prediction is named by its id', async () => {
      const gold = sharedPath('data', 'qa', 'xquad', 'xquad.de.json.gz');
      const task = engine.tasks.get('qa') as unknown as TaskPlugin<QaExample, never, string>;
      const examples = await task.read({ path: gold, language: 'de' }, {});
      const record = JSON.parse(task.formatPredictions(examples.map((e) => e.answers[0]!.text), examples)) as Record<string, string>;
      const dropped = examples[700]!.id;
      delete record[dropped];
      const pred = join(dir, 'qa-missing.pred');
      await writeFile(pred, JSON.stringify(record, null, 2));

      const out = await xlt(['score', '--task', 'qa', '--gold', gold, '--pred', pred, '--lang', 'de']);
      expect(out.code, out.stderr).toBe(1);
      expect(out.stdout).toBe('');
      expect(out.stderr).toContain(pred);
      expect(out.stderr).toContain('1 of 1190 missing');
      expect(out.stderr).toContain(JSON.stringify(dropped));
    });
  });
});
