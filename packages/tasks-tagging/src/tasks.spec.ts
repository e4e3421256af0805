import { gzipSync } from 'node:zlib';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createEngine, InputError, TaskPlugin } from '@xlt/plugin-api';
import { tempDir, whitespaceTokenizer } from '@xlt/plugin-api/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nerTask, posTask, taggingModule, UPOS_TAGS } from './index.js';
import type { TaggedSentence } from './tagged-sentence.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('xlt-tagging-'));
});
afterAll(() => cleanup());

const row = (id: string, form: string, upos: string) => [id, form, '_', upos, '_', '_', '_', '_', '_', '_'].join('\t');

describe('taggingModule', () => {
  it('binds the pos and ner tasks to the TaskPlugin extension point', async () => {
    const engine = await createEngine([taggingModule]);
    expect(engine.tasks.ids().sort()).toEqual(['ner', 'pos']);
    expect(engine.tasks.get('ner')).toBe(nerTask);
    expect(engine.container.getAll(TaskPlugin)).toHaveLength(2);
    expect(nerTask.primaryMetric).toBe('f1');
    expect(posTask.primaryMetric).toBe('accuracy');
  });

  it('declares strict options so a config with a misspelt key is rejected', () => {
    expect(nerTask.optionsSchema!.safeParse({ labelAllSubwords: true, languagePrefix: 'strip' }).success).toBe(true);
    expect(nerTask.optionsSchema!.safeParse({ labelAllSubword: true }).success).toBe(false);
    expect(posTask.optionsSchema!.safeParse({ truncatedTag: '' }).success).toBe(false);
  });
});

describe('pos task', () => {
  it('reads gzip CoNLL-U detected by content, whatever the name', async () => {
    const file = join(dir, 'part1.data');
    await writeFile(file, gzipSync(`# sent_id = 1\n${row('1', 'Hi', 'INTJ')}\n${row('2', '!', 'PUNCT')}\n\n`));
    const out = await posTask.read({ path: file }, {});
    expect(out).toMatchObject([{ words: ['Hi', '!'], tags: ['INTJ', 'PUNCT'], id: '1' }]);
  });

  it('rejects an unknown format id and an undetectable file', async () => {
    const file = join(dir, 'x.txt');
    await writeFile(file, 'hello world\n');
    await expect(posTask.read({ path: file }, {})).rejects.toThrow(InputError);
    await expect(posTask.read({ path: file, format: 'squad' }, {})).rejects.toThrow(/a format of this task \(conllu\)/);
  });

  it('has the 17 UPOS tags in a fixed order', () => {
    expect(posTask.labelSpace([], {})).toEqual([...UPOS_TAGS]);
    expect(UPOS_TAGS).toHaveLength(17);
    expect(UPOS_TAGS[0]).toBe('ADJ');
    expect(UPOS_TAGS[16]).toBe('X');
  });

  it('scores accuracy in percent, with the truncation count from decode', () => {
    const gold: TaggedSentence[] = [{ words: ['a', 'b', 'c', 'd'], tags: ['NOUN', 'VERB', 'X', 'NOUN'], file: 'g', line: 1 }];
    const metrics = posTask.score(gold, [{ tags: ['NOUN', 'NOUN', 'X', 'NOUN'], truncatedWords: 1 }], { labels: UPOS_TAGS, maxLength: 8, options: {} });
    expect(metrics).toEqual({ accuracy: 75, unseen_labels: 0, truncated_words: 1 });
  });
});

describe('ner task', () => {
  const train: TaggedSentence[] = [
    { words: ['Paris', 'Hilton'], tags: ['B-PER', 'I-PER'], file: 't', line: 1 },
    { words: ['in', 'Kenya', 'Airways'], tags: ['O', 'B-ORG', 'I-ORG'], file: 't', line: 4 },
    { words: ['Lagos'], tags: ['B-LOC'], file: 't', line: 8 },
  ];

  it('reads WikiANN and MasakhaNER layouts by detection', async () => {
    const wiki = join(dir, 'train');
    await writeFile(wiki, gzipSync('en:Paris\tB-PER\nen:Hilton\tI-PER\n\n'));
    const masakha = join(dir, 'test.txt');
    await writeFile(masakha, 'Lagos B-LOC\nlana I-DATE\n\n');
    expect((await nerTask.read({ path: wiki }, {}))[0]!.words).toEqual(['Paris', 'Hilton']);
    expect((await nerTask.read({ path: masakha }, {}))[0]!.tags).toEqual(['B-LOC', 'I-DATE']);
    expect((await nerTask.read({ path: wiki }, { languagePrefix: 'keep' }))[0]!.words).toEqual(['en:Paris', 'en:Hilton']);
    await expect(nerTask.read({ path: wiki }, { languagePrefix: 'drop' })).rejects.toThrow(/options\.languagePrefix/);
    await expect(nerTask.read({ path: masakha, format: 'wikiann' }, {})).rejects.toThrow(/test\.txt:1/);
  });

  it('builds the label space from training tags: O first, then B-/I- pairs by sorted type', () => {
    expect(nerTask.labelSpace(train, {})).toEqual(['O', 'B-LOC', 'I-LOC', 'B-ORG', 'I-ORG', 'B-PER', 'I-PER']);
  });

  it('counts gold labels unseen in training and scores their entities as misses', () => {
    const labels = nerTask.labelSpace(train, {});
    const gold: TaggedSentence[] = [{ words: ['Lagos', 'lana', 'ni'], tags: ['B-LOC', 'B-DATE', 'I-DATE'], file: 'g', line: 1 }];
    const m = nerTask.score(gold, [{ tags: ['B-LOC', 'O', 'O'] }], { labels, maxLength: 8, options: {} });
    expect(m['unseen_labels']).toBe(2);
    expect(m['precision']).toBe(100);
    expect(m['recall']).toBe(50);
    expect(m['f1']).toBeCloseTo(200 / 3, 12);
    expect(m['f1_LOC']).toBe(100);
    expect(m['f1_DATE']).toBe(0);
    expect(m['strict_f1']).toBeCloseTo(200 / 3, 12);
    expect(m['accuracy']).toBeCloseTo(100 / 3, 12);
  });

  it('runs featurize → logits → decode → score end to end with the fake tokenizer', async () => {
    const labels = nerTask.labelSpace(train, {});
    const perfectLogits = (features: Awaited<ReturnType<typeof nerTask.featurize>>) =>
      features.map((f) => {
        // A one-hot of the gold label at each labelled sub-word, -1 elsewhere.
        const out = new Float32Array(f.inputIds.length * labels.length).fill(-1);
        f.labels.forEach((label, t) => {
          if (label >= 0) out[t * labels.length + label] = 5;
        });
        return out;
      });
    // maxLength 6: [CLS] in Keny a Airw [SEP] drops only "ays", every word keeps its first sub-word.
    const wide = { labels, maxLength: 6, options: {} };
    const features = await nerTask.featurize(train, whitespaceTokenizer({ pieceLength: 4 }), wide);
    expect(features[1]!.inputIds).toHaveLength(6);
    const predictions = nerTask.decode(perfectLogits(features), features, train, wide);
    expect(predictions.map((p) => p.tags)).toEqual(train.map((s) => s.tags));
    expect(nerTask.score(train, predictions, wide)).toMatchObject({ f1: 100, strict_f1: 100, truncated_words: 0, unseen_labels: 0 });
    const text = nerTask.formatPredictions(predictions, train);
    expect(nerTask.parsePredictions(text, 'p', train)).toEqual(train.map((s) => ({ tags: s.tags })));

    // maxLength 5: [CLS] in Keny a [SEP] cuts "Airways", predicted O, so "Kenya Airways" becomes "Kenya" (wrong).
    const narrow = { labels, maxLength: 5, options: {} };
    const cut = await nerTask.featurize(train, whitespaceTokenizer({ pieceLength: 4 }), narrow);
    const cutPredictions = nerTask.decode(perfectLogits(cut), cut, train, narrow);
    expect(cutPredictions[1]).toEqual({ tags: ['O', 'B-ORG', 'O'], truncatedWords: 1 });
    const m = nerTask.score(train, cutPredictions, narrow);
    expect(m['truncated_words']).toBe(1);
    expect(m['f1']).toBeCloseTo(200 / 3, 12);
    expect(m['f1_ORG']).toBe(0);
  });

  it('predicts O for words cut off by truncation', async () => {
    const labels = nerTask.labelSpace(train, {});
    const context = { labels, maxLength: 4, options: {} };
    const ex: TaggedSentence[] = [{ words: ['Kenya', 'Airways'], tags: ['B-ORG', 'I-ORG'], file: 'g', line: 1 }];
    const features = await nerTask.featurize(ex, whitespaceTokenizer({ pieceLength: 4 }), context);
    // [CLS] Keny a [SEP]: "Airways" has no sub-word left
    const logits = [new Float32Array(4 * labels.length).fill(0).map((_, i) => (i % labels.length === 3 ? 1 : 0))];
    const [p] = nerTask.decode(logits, features, ex, context);
    expect(p).toEqual({ tags: ['B-ORG', 'O'], truncatedWords: 1 });
    expect(nerTask.decode(logits, features, ex, { ...context, options: { truncatedTag: 'I-ORG' } })[0]!.tags).toEqual(['B-ORG', 'I-ORG']);
  });
});
