import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Feature, TaskContext, TaskPlugin } from '@xlt/plugin-api';
import { tempDir, whitespaceTokenizer } from '@xlt/plugin-api/testing';
import { FeatureCache, tokenizerFingerprint } from './feature-cache.js';

describe('FeatureCache', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const folder = (name: string) => join(dir, name);
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('xlt-feature-cache-'));
    for (const [name, vocab] of [['a', 'x\ny\n'], ['b', 'x\ny\n'], ['c', 'x\nz\n']] as const) {
      await mkdir(folder(name));
      await writeFile(join(folder(name), 'vocab.txt'), vocab);
    }
    await mkdir(folder('none'));
  });
  afterAll(() => cleanup());

  it('fingerprints tokenizer files by content: equal copies agree, an edited vocabulary differs, no files gives none', async () => {
    const [a, b, c, none] = await Promise.all(['a', 'b', 'c', 'none'].map((n) => tokenizerFingerprint(folder(n))));
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(none).toBeUndefined();
  });

  it('featurizes a data set once per tokenizer and context, and again when either changes', async () => {
    const calls: string[] = [];
    const task = { id: 't', featurize: async (examples: readonly unknown[], _t: unknown, c: TaskContext) => (calls.push(`${examples.length}:${c.maxLength}`), examples.map(() => ({}) as Feature)) } as unknown as TaskPlugin;
    const cache = new FeatureCache();
    const examples = ['p', 'q'];
    const tokenizer = whitespaceTokenizer();
    const context: TaskContext = { labels: [], maxLength: 8, options: {} };
    const fa = await tokenizerFingerprint(folder('a'));
    const first = await cache.featurize(task, examples, tokenizer, fa, context);
    expect(await cache.featurize(task, examples, tokenizer, await tokenizerFingerprint(folder('b')), { ...context })).toBe(first);
    await cache.featurize(task, examples, tokenizer, await tokenizerFingerprint(folder('c')), context);
    await cache.featurize(task, examples, tokenizer, fa, { ...context, maxLength: 4 });
    await cache.featurize(task, [...examples], tokenizer, fa, context); // another data set with equal content
    await cache.featurize(task, examples, tokenizer, undefined, context); // unknown tokenizer files: no caching
    expect(calls).toEqual(['2:8', '2:8', '2:4', '2:8', '2:8']);
  });

  it('loads one tokenizer per provider and fingerprint, and retries a load that failed', async () => {
    const cache = new FeatureCache();
    let loads = 0;
    const load = async () => (++loads === 1 ? Promise.reject(new Error('boom')) : whitespaceTokenizer());
    await expect(cache.tokenizer(folder('a'), 'p', load)).rejects.toThrow('boom');
    const one = await cache.tokenizer(folder('a'), 'p', load);
    expect((await cache.tokenizer(folder('b'), 'p', load)).tokenizer).toBe(one.tokenizer);
    await cache.tokenizer(folder('b'), 'other', load);
    await cache.tokenizer(folder('none'), 'p', load);
    expect(loads).toBe(4);
  });
});
