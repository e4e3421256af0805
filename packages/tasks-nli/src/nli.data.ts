import { beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '@xlt/core';
import { describeTaskConformance } from '@xlt/core/testing';
import { sharedPath } from '@xlt/plugin-api/testing';
import { NLI_LABELS } from './labels.js';
import { nliTask } from './nli-task.js';
import { readNli } from './read-nli.js';

const XNLI_LANGUAGES = ['ar', 'bg', 'de', 'el', 'en', 'es', 'fr', 'hi', 'ru', 'sw', 'th', 'tr', 'ur', 'vi', 'zh'];
const AMERICAS_LANGUAGES = ['aym', 'bzd', 'cni', 'gn', 'hch', 'nah', 'oto', 'quy', 'shp', 'tar'];
/** AmericasNLI dev rows per language (E/N/C), from the data README. */
const AMERICAS_DEV: Record<string, [number, number, number]> = {
  aym: [248, 247, 248], bzd: [248, 247, 248], cni: [220, 218, 220], gn: [248, 247, 248], hch: [248, 247, 248],
  nah: [193, 197, 195], oto: [78, 69, 75], quy: [248, 247, 248], shp: [248, 247, 248], tar: [248, 247, 248],
};
const AMERICAS_TEST: Record<string, [number, number, number]> = { nah: [246, 247, 245], oto: [249, 250, 249] };

function labelCounts(labels: readonly string[]): number[] {
  return NLI_LABELS.map((l) => labels.filter((x) => x === l).length);
}

const context = { labels: NLI_LABELS, maxLength: 128, options: {} };

describe('NLI data suite', () => {
  for (const language of XNLI_LANGUAGES) {
    it(`XNLI dev ${language}: 2,490 pairs, 830 per label, gold scores 100`, async () => {
      const examples = await readNli({ path: sharedPath('data', 'nli', 'xnli', `dev-${language}.tsv.gz`), language });
      expect(examples).toHaveLength(2490);
      expect(labelCounts(examples.map((e) => e.label))).toEqual([830, 830, 830]);
      const gold = examples.map((e) => e.label);
      expect(nliTask.score(examples, gold, context)).toEqual({ accuracy: 100 });
      expect(nliTask.parsePredictions(nliTask.formatPredictions(gold, examples), 'gold', examples)).toEqual(gold);
    });
  }

  it('XNLI dev: the files are parallel (row i has one label in every language) and hi keeps U+FEFF mid-premise', async () => {
    const en = (await readNli({ path: sharedPath('data', 'nli', 'xnli', 'dev-en.tsv.gz') })).map((e) => e.label);
    const hi = await readNli({ path: sharedPath('data', 'nli', 'xnli', 'dev-hi.tsv.gz') });
    expect(hi.map((e) => e.label)).toEqual(en);
    for (const line of [2296, 2297, 2298]) expect(hi[line - 1]!.premise.charAt(108)).toBe('\uFEFF');
    expect(hi.filter((e) => e.premise.includes('\uFEFF')).map((e) => e.line)).toEqual([2296, 2297, 2298]);
  });

  it('official XNLI sample: the 19-column header format reads by column name', async () => {
    const examples = await readNli({ path: sharedPath('data', 'nli', 'xnli', 'original-format-sample', 'xnli.dev.tsv') });
    const mesh = await readNli({ path: sharedPath('data', 'nli', 'xnli', 'dev-ar.tsv.gz') });
    expect(examples).toHaveLength(2);
    expect(examples.map((e) => [e.premise, e.hypothesis, e.label])).toEqual(mesh.slice(0, 2).map((e) => [e.premise, e.hypothesis, e.label]));
  });

  for (const split of ['dev', 'test'] as const) {
    for (const language of AMERICAS_LANGUAGES) {
      const counts = split === 'dev' ? AMERICAS_DEV[language]! : (AMERICAS_TEST[language] ?? [250, 250, 250]);
      const total = counts[0] + counts[1] + counts[2];
      it(`AmericasNLI ${split} ${language}: ${total} pairs (${counts.join('/')}), gold scores 100`, async () => {
        const examples = await readNli({ path: sharedPath('data', 'nli', 'americasnli', split, `${language}.tsv.gz`), language });
        expect(examples).toHaveLength(total);
        expect(labelCounts(examples.map((e) => e.label))).toEqual(counts);
        expect(nliTask.score(examples, examples.map((e) => e.label), context)).toEqual({ accuracy: 100 });
      });
    }
  }

  it('AmericasNLI test nah: the three single-space premises (ids 25576-25578) and padded fields are kept', async () => {
    const examples = await readNli({ path: sharedPath('data', 'nli', 'americasnli', 'test', 'nah.tsv.gz') });
    expect(examples.filter((e) => e.premise === ' ').map((e) => e.id)).toEqual(['25576', '25577', '25578']);
    const padded = examples.filter((e) => [e.premise, e.hypothesis].some((s) => s !== s.trim()));
    expect(padded.length).toBeGreaterThanOrEqual(3);
  });

  for (const [split, total, counts] of [
    ['dev', 9842, [3329, 3235, 3278]],
    ['test', 9824, [3368, 3219, 3237]],
  ] as const) {
    it(`SNLI ${split}: ${total} pairs from any of its three gzipped files, gold scores 100`, async () => {
      const fromS1 = await readNli({ path: sharedPath('data', 'nli', 'snli', `s1.${split}.gz`) });
      expect(fromS1).toHaveLength(total);
      expect(labelCounts(fromS1.map((e) => e.label))).toEqual([...counts]);
      expect(fromS1.every((e) => e.premise.endsWith(' ') && e.hypothesis.endsWith(' '))).toBe(true);
      expect(await readNli({ path: sharedPath('data', 'nli', 'snli', `labels.${split}.gz`) })).toEqual(fromS1);
      expect(nliTask.score(fromS1, fromS1.map((e) => e.label), context)).toEqual({ accuracy: 100 });
    });
  }
});

describe('NLI with the real mBERT tokenizer', () => {
  it('encodes every XNLI dev pair (hi with U+FEFF too) as [CLS] premise [SEP] hypothesis [SEP] within 128 tokens', async () => {
    const tokenizer = await loadTokenizer(sharedPath('data', 'tokenizer', 'bert-base-multilingual-cased'));
    for (const language of ['en', 'hi', 'zh']) {
      const examples = await readNli({ path: sharedPath('data', 'nli', 'xnli', `dev-${language}.tsv.gz`) });
      const features = await nliTask.featurize(examples, tokenizer, context);
      expect(features).toHaveLength(examples.length);
      for (const f of features) {
        expect(f.inputIds.length).toBeLessThanOrEqual(128);
        expect(f.inputIds[0]).toBe(tokenizer.clsId);
        expect(f.inputIds.filter((id) => id === tokenizer.sepId)).toHaveLength(2);
        const firstSep = f.inputIds.indexOf(tokenizer.sepId);
        expect(f.tokenTypeIds.slice(0, firstSep + 1).every((t) => t === 0)).toBe(true);
        expect(f.tokenTypeIds.slice(firstSep + 1).every((t) => t === 1)).toBe(true);
        expect(f.label).toBe(NLI_LABELS.indexOf(examples[f.exampleIndex]!.label));
      }
    }
  });
});

describeTaskConformance(nliTask, {
  runner: { describe, it, expect, beforeAll },
  files: [
    { path: sharedPath('data', 'nli', 'xnli', 'dev-de.tsv.gz') },
    { path: sharedPath('data', 'nli', 'americasnli', 'test', 'nah.tsv.gz') },
    { path: sharedPath('data', 'nli', 'snli', 's2.test.gz') },
  ],
  tokenizer: () => loadTokenizer(sharedPath('data', 'tokenizer', 'bert-base-multilingual-cased')),
  gold: (examples) => examples.map((e) => e.label),
  maxLength: 64,
});
