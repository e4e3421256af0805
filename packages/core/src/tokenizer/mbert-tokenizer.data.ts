import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sharedPath } from '@xlt/plugin-api/testing';
import { readText } from '@xlt/plugin-api';
import type { HfTokenizer } from './hf-tokenizer.js';
import { loadTokenizer } from './load-tokenizer.js';

const LANGUAGES = ['en_ewt-ud-dev', 'de_pud-ud-test', 'ru_pud-ud-test', 'zh_pud-ud-test', 'ar_pud-ud-test', 'hi_pud-ud-test'];
const PER_LANGUAGE = 60;

interface Sentence {
  readonly text: string;
  readonly words: string[];
}

/** The first sentences of a UD file: its `# text =` line and the surface forms (multi-word tokens kept whole). */
async function sentences(name: string): Promise<Sentence[]> {
  const text = await readText(sharedPath('data', 'pos', `${name}.conllu.gz`));
  const out: Sentence[] = [];
  for (const block of text.split('\n\n')) {
    const lines = block.split('\n');
    const sentence = lines.find((l) => l.startsWith('# text = '))?.slice('# text = '.length);
    if (sentence === undefined) continue;
    const words: string[] = [];
    let skipUntil = 0;
    for (const line of lines) {
      if (line.startsWith('#') || line === '') continue;
      const [id, form] = line.split('\t');
      if (id!.includes('.')) continue;
      if (id!.includes('-')) {
        words.push(form!);
        skipUntil = Number(id!.split('-')[1]);
        continue;
      }
      if (Number(id) <= skipUntil) continue;
      words.push(form!);
    }
    out.push({ text: sentence, words });
    if (out.length === PER_LANGUAGE) break;
  }
  return out;
}

let fromJson: HfTokenizer;
let fromVocab: HfTokenizer;
let data: Sentence[];
let vocabOnly: string;

beforeAll(async () => {
  const folder = sharedPath('data', 'tokenizer', 'bert-base-multilingual-cased');
  vocabOnly = await mkdtemp(join(tmpdir(), 'xlt-mbert-vocab-'));
  for (const file of ['vocab.txt', 'tokenizer_config.json', 'config.json']) await cp(join(folder, file), join(vocabOnly, file));
  [fromJson, fromVocab] = await Promise.all([loadTokenizer(folder), loadTokenizer(vocabOnly)]);
  data = (await Promise.all(LANGUAGES.map(sentences))).flat();
});
afterAll(() => rm(vocabOnly, { recursive: true, force: true }));

describe('mBERT tokenizer (shared/data/tokenizer/bert-base-multilingual-cased)', () => {
  test('special ids: [PAD]=0, [UNK]=100, [CLS]=101, [SEP]=102; vocab 119547; model max 512', () => {
    for (const t of [fromJson, fromVocab]) {
      expect([t.padId, t.unkId, t.clsId, t.sepId]).toEqual([0, 100, 101, 102]);
      expect(t.vocabSize).toBe(119547);
      expect(t.source.modelMaxLength).toBe(512);
    }
    expect(fromJson.source.file.endsWith('tokenizer.json')).toBe(true);
    expect(fromVocab.source.file.endsWith('vocab.txt')).toBe(true);
  });

  test(`tokenizer.json and vocab.txt give identical encodings on ${LANGUAGES.length * PER_LANGUAGE} sentences of six scripts, alone and in pairs`, async () => {
    expect(data.length).toBe(LANGUAGES.length * PER_LANGUAGE);
    for (let i = 0; i < data.length; i++) {
      const pair = data[(i + 7) % data.length]!.text;
      const [a, b] = await Promise.all([fromJson.encode(data[i]!.text, pair), fromVocab.encode(data[i]!.text, pair)]);
      expect(b).toEqual(a);
      expect(a[0]!.ids[0]).toBe(101);
    }
  });

  test('offsets cut each known token out of the original text (UTF-16)', async () => {
    let checked = 0;
    for (const { text } of data) {
      const [e] = await fromJson.encode(text);
      e!.ids.forEach((id, i) => {
        if (e!.sequenceIds[i] === null || id === 100) return;
        expect(text.slice(...e!.offsets[i]!)).toBe(fromJson.idToToken(id)!.replace(/^##/, ''));
        checked++;
      });
    }
    expect(checked).toBeGreaterThan(5000);
  });

  test('encodeWords gives the ids of the joined words and word ids that cover every word with tokens', async () => {
    for (const { words } of data) {
      const [fromWords] = await fromJson.encodeWords(words);
      const [joined] = await fromJson.encode(words.join(' '));
      expect(fromWords!.ids).toEqual(joined!.ids);
      const covered = new Set(fromWords!.wordIds.filter((w) => w !== null));
      expect(covered.size).toBe(words.length);
      // Word ids never go backwards.
      const ids = fromWords!.wordIds.filter((w): w is number => w !== null);
      expect(ids.every((w, k) => k === 0 || w >= ids[k - 1]!)).toBe(true);
    }
  });
});
