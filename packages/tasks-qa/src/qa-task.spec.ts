import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TaskPlugin, type TaskContext } from '@xlt/plugin-api';
import { tempDir, whitespaceTokenizer } from '@xlt/plugin-api/testing';
import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import { qaModule } from './index.js';
import type { QaExample } from './qa-example.js';
import type { QaFeature } from './qa-features.js';
import { QaTask, resolveQaMetric } from './qa-task.js';

/** BERT-like for QA: words also cut at punctuation (`it?` → `it` `?`), pieces of up to 4 characters. */
const qaTokenizer = () => whitespaceTokenizer({ pieceLength: 4, splitPunctuation: true });

const context = (options: Record<string, unknown> = {}, language?: string): TaskContext => ({ labels: [], maxLength: 384, options, ...(language ? { language } : {}) });

describe('qaModule', () => {
  it('binds the qa task to the core TaskPlugin symbol', async () => {
    const container = new Container();
    await container.load(qaModule);
    const tasks = container.getAll<TaskPlugin>(TaskPlugin);
    expect(tasks.map((t) => t.id)).toEqual(['qa']);
    expect(tasks[0]!.primaryMetric).toBe('f1');
    expect(tasks[0]!.formats.map((f) => f.id)).toEqual(['squad-json']);
  });
});

describe('QaTask', () => {
  const task = new QaTask();

  it('reads, windows, collates, decodes oracle logits and scores 100 end to end', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const long = Array.from({ length: 60 }, (_, i) => `w${i}`).join(' ');
      const data = {
        version: '1.1',
        data: [
          { title: 'A', paragraphs: [{ context: 'The tower is in Paris.', qas: [{ id: 'q1', question: 'Where?', answers: [{ text: 'Paris', answer_start: 16 }] }] }] },
          { title: 'B', paragraphs: [{ context: long, qas: [{ id: 'q2', question: 'Which?', answers: [{ text: 'w47 w48', answer_start: long.indexOf('w47') }] }] }] },
        ],
      };
      const path = join(dir, 'dev.json');
      await writeFile(path, JSON.stringify(data));
      const examples = await task.read({ path }, {});
      const ctx = context({ docStride: 8 });
      const features = await task.featurize(examples, qaTokenizer(), { ...ctx, maxLength: 32 });
      expect(features.length).toBeGreaterThan(3);
      expect(features.every((f) => f.inputIds.length <= 32)).toBe(true);

      const targets = task.collate(features, 32, ctx);
      expect(targets['start_positions']).toEqual(Int32Array.from(features.map((f) => f.startPosition)));
      expect(targets['token_mask']!.length).toBe(32 * features.length);
      expect(Array.from(targets['token_mask']!.slice(32, 64)).reduce((a, b) => a + b, 0)).toBe(features[1]!.inputIds.length);

      // logits that a perfect model would give: high where the gold span is, low elsewhere
      const logits = features.map((f: QaFeature) => {
        const row = new Float32Array(2 * f.inputIds.length).fill(-5);
        if (f.startPosition > 0) (row[2 * f.startPosition] = 10), (row[2 * f.endPosition + 1] = 10);
        return row;
      });
      const predictions = task.decode(logits, features, examples, ctx);
      expect(predictions).toEqual(['Paris', 'w47 w48']);
      expect(task.score(examples, predictions, ctx)).toEqual({ exact_match: 100, f1: 100 });
      const partial = task.score(examples, ['the Paris', 'w47'], ctx);
      expect(partial['exact_match']).toBe(50);
      expect(partial['f1']).toBeCloseTo((100 + (100 * 2) / 3) / 2, 10);

      const text = task.formatPredictions(predictions, examples);
      expect(task.parsePredictions(text, 'pred.json', examples)).toEqual(predictions);
      expect(task.labelSpace()).toEqual([]);
    } finally {
      await cleanup();
    }
  });

  it('chooses the MLQA metric for MLQA data with a language, else SQuAD, unless told', () => {
    const mk = (benchmark: QaExample['benchmark'], language?: string): QaExample[] => [
      { id: 'x', question: '?', context: '«Paris»', answers: [{ text: '«Paris»', answerStart: 0 }], benchmark, ...(language ? { language } : {}) },
    ];
    expect(resolveQaMetric(mk('mlqa', 'de'), context())).toEqual({ metric: 'mlqa', language: 'de' });
    expect(resolveQaMetric(mk('mlqa'), context({}, 'zh'))).toEqual({ metric: 'mlqa', language: 'zh' });
    expect(resolveQaMetric(mk('mlqa'), context())).toEqual({ metric: 'squad' });
    expect(resolveQaMetric(mk('squad', 'de'), context())).toEqual({ metric: 'squad' });
    expect(resolveQaMetric(mk('mlqa', 'de'), context({ metric: 'squad' }))).toEqual({ metric: 'squad' });
    expect(resolveQaMetric(mk('squad'), context({ metric: 'mlqa' }, 'en'))).toEqual({ metric: 'mlqa', language: 'en' });
    expect(() => resolveQaMetric(mk('squad'), context({ metric: 'mlqa' }))).toThrow(/needs the language/);
    // the choice matters: MLQA drops « », SQuAD keeps them
    expect(task.score(mk('mlqa', 'en'), ['Paris'], context()).exact_match).toBe(100);
    expect(task.score(mk('squad'), ['Paris'], context()).exact_match).toBe(0);
  });

  it('rejects unknown options and formats', async () => {
    expect(() => task.decode([], [], [], context({ nbest: 3 }))).toThrow(/options/);
    await expect(task.read({ path: 'x.json', format: 'conllu' }, {})).rejects.toThrow(/format "squad-json"/);
  });
});
