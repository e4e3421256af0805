import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Container } from 'inversify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InputError, XltError, TokenizerProvider } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { loadTokenizer } from './load-tokenizer.js';
import { codePointToUtf16 } from './offsets.js';
import { tokenizerModule } from './tokenizer-module.js';
import { writeTinyUnigramTokenizer, writeTinyWordPieceTokenizer } from './tiny-tokenizers.js';
import type { HfTokenizer } from './hf-tokenizer.js';

let root: string;
let cleanup: () => Promise<void>;
let fromJson: HfTokenizer;
let fromVocab: HfTokenizer;
let unigram: HfTokenizer;

beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  fromJson = await loadTokenizer(await writeTinyWordPieceTokenizer(join(root, 'json'), { json: true }));
  fromVocab = await loadTokenizer(await writeTinyWordPieceTokenizer(join(root, 'vocab')));
  unigram = await loadTokenizer(await writeTinyUnigramTokenizer(join(root, 'xlmr')));
});
afterAll(() => cleanup());

const SENTENCES = ['hello world', 'the cat sat on the mat.', 'where is the dog? here!', 'cats walked, helloed', 'zzz hello'];

describe('hf-tokenizers: WordPiece', () => {
  test('legacy tokenizer.json (model without type) and vocab.txt give the same ids, types and offsets', async () => {
    expect(fromJson.source.file.endsWith('tokenizer.json')).toBe(true);
    expect(fromVocab.source.file.endsWith('vocab.txt')).toBe(true);
    for (const text of SENTENCES) {
      const [a] = await fromJson.encode(text, 'the cat');
      const [b] = await fromVocab.encode(text, 'the cat');
      expect(b).toEqual(a);
    }
  });

  test('special ids come from the vocabulary, and the default maxLength from tokenizer_config.json', async () => {
    for (const t of [fromJson, fromVocab]) {
      expect([t.padId, t.unkId, t.clsId, t.sepId]).toEqual([0, 1, 2, 3]);
      const [e] = await t.encode('hello world');
      expect(e!.ids[0]).toBe(2);
      expect(e!.ids.at(-1)).toBe(3);
      const [long] = await t.encode(Array(40).fill('cat').join(' '));
      expect(long!.ids).toHaveLength(32);
    }
    expect(await fromVocab.decode((await fromVocab.encode('the cat sat'))[0]!.ids)).toBe('the cat sat');
  });

  test('a pair has typeIds 0 then 1, sequenceIds and per-sequence wordIds, null on specials', async () => {
    const [e] = await fromJson.encode('hello world', 'the cats');
    expect(e!.ids.map((id) => fromJson.idToToken(id))).toEqual(['[CLS]', 'hello', 'world', '[SEP]', 'the', 'cat', '##s', '[SEP]']);
    expect(e!.typeIds).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(e!.sequenceIds).toEqual([null, 0, 0, null, 1, 1, 1, null]);
    expect(e!.wordIds).toEqual([null, 0, 1, null, 0, 1, 1, null]);
    expect(e!.offsets).toEqual([[0, 0], [0, 5], [6, 11], [0, 0], [0, 3], [4, 7], [7, 8], [0, 0]]);
  });

  test('offsets are UTF-16 indices after emoji and U+FEFF, in both sequences', async () => {
    const text = 'hello 😀 world \uFEFFcat 🐈';
    const pair = '𝔘 the \uFEFF😀 dog';
    const [e] = await fromJson.encode(text, pair);
    const spans = e!.ids.map((id, i) => {
      const [from, to] = e!.offsets[i]!;
      const source = e!.sequenceIds[i] === 1 ? pair : text;
      return [fromJson.idToToken(id), e!.sequenceIds[i] === null ? '' : source.slice(from, to)];
    });
    expect(spans.filter(([token]) => token !== '[UNK]' && token !== '[CLS]' && token !== '[SEP]')).toEqual([
      ['hello', 'hello'],
      ['world', 'world'],
      ['cat', 'cat'],
      ['the', 'the'],
      ['dog', 'dog'],
    ]);
    // Each emoji is one [UNK] spanning its two UTF-16 units.
    expect(spans.filter(([token]) => token === '[UNK]').map(([, s]) => String(s).replace('\uFEFF', ''))).toEqual(['😀', '🐈', '𝔘', '😀']);
  });

  test('only_second with a stride returns every window of the context, each with the whole question', async () => {
    const question = 'where is the cat?';
    const context = 'the cat sat on the mat. the dog sat on the cat. hello world, the dog is here!';
    const windows = await fromJson.encode(question, context, { maxLength: 16, truncation: 'only_second', stride: 3 });
    expect(windows.length).toBeGreaterThan(2);
    const contextTokens: number[][] = [];
    for (const w of windows) {
      expect(w.ids.length).toBeLessThanOrEqual(16);
      expect(w.ids.slice(0, 7).map((id) => fromJson.idToToken(id))).toEqual(['[CLS]', 'where', 'is', 'the', 'cat', '?', '[SEP]']);
      const inContext = w.sequenceIds.map((s, i) => (s === 1 ? i : -1)).filter((i) => i >= 0);
      contextTokens.push(inContext.map((i) => w.ids[i]!));
      for (const i of inContext) expect(context.slice(...w.offsets[i]!).length).toBeGreaterThan(0);
    }
    for (let k = 1; k < contextTokens.length; k++) {
      expect(contextTokens[k]!.slice(0, 3)).toEqual(contextTokens[k - 1]!.slice(-3));
    }
    const [whole] = await fromJson.encode(question, context, { maxLength: 512 });
    const all = whole!.ids.filter((_, i) => whole!.sequenceIds[i] === 1);
    const stitched = contextTokens.flatMap((tokens, k) => (k === 0 ? tokens : tokens.slice(3)));
    expect(stitched).toEqual(all);
    // Without a stride only the first window comes back.
    expect(await fromJson.encode(question, context, { maxLength: 16, truncation: 'only_second' })).toEqual([windows[0]]);
  });

  test('only_second with a first sequence longer than maxLength is a clear error', async () => {
    const long = Array(30).fill('cat').join(' ');
    await expect(fromJson.encode(long, 'the dog', { maxLength: 16, truncation: 'only_second' })).rejects.toThrow(
      /tokenizer.json: cannot truncate with only_second: the first sequence \(30 tokens\) alone leaves no room/,
    );
  });

  test('encodeWords equals encoding the joined words, with word ids indexing the words', async () => {
    const words = ['the', 'cats', 'sat', 'on', 'hello', 'mat.', '😀', 'dogs'];
    const [e] = await fromJson.encodeWords(words);
    const [joined] = await fromJson.encode(words.join(' '));
    expect(e!.ids).toEqual(joined!.ids);
    expect(e!.wordIds).toEqual([null, 0, 1, 1, 2, 3, 4, 5, 5, 6, 7, 7, null]);
    expect(e!.sequenceIds).toEqual([null, ...Array(11).fill(0), null]);
    expect(e!.typeIds).toEqual(Array(13).fill(0));
    // Offsets are within each word, in UTF-16 units.
    expect(e!.offsets[9]).toEqual([0, 2]);
    expect(e!.offsets[11]).toEqual([3, 4]);
  });

  test('encodeWords windows the joined word tokens as encode windows the text', async () => {
    const words = 'the cats sat on the mat the dog sat on the cat hello world the dog is here'.split(' ');
    const total = (await fromJson.encode(words.join(' '), undefined, { maxLength: 512 }))[0]!.ids.length - 2;
    expect(total).toBe(19);
    for (const options of [{ maxLength: 10 }, { maxLength: 10, stride: 2 }, { maxLength: 7, stride: 0 }]) {
      const fromWords = await fromJson.encodeWords(words, options);
      const fromText = await fromJson.encode(words.join(' '), undefined, options);
      const size = options.maxLength - 2;
      expect(fromWords.length).toBe(options.stride === undefined ? 1 : Math.ceil((total - size) / (size - options.stride)) + 1);
      expect(fromWords).toEqual(fromText.map((w) => ({ ...w, offsets: fromWords[fromText.indexOf(w)]!.offsets })));
    }
    await expect(fromJson.encodeWords(words, { maxLength: 6, stride: 4 })).rejects.toThrow(/Stride 4 must be smaller than the 4 tokens/);
  });

  test('longest_first shares maxLength between a pair as HF does, the longer sequence giving up tokens first', async () => {
    const a = 'the cat sat on the mat';
    const b = 'hello world the dog is here where is the cat';
    const [e] = await fromJson.encode(a, b, { maxLength: 13 });
    // 10 tokens of room: the shorter (6) keeps max(6, 10 - 6) > 5, so both get 5.
    expect(e!.sequenceIds.filter((s) => s === 0)).toHaveLength(5);
    expect(e!.sequenceIds.filter((s) => s === 1)).toHaveLength(5);
    const [f] = await fromJson.encode('the cat', b, { maxLength: 13 });
    expect(f!.sequenceIds.filter((s) => s === 0)).toHaveLength(2);
    expect(f!.sequenceIds.filter((s) => s === 1)).toHaveLength(8);
    await expect(fromJson.encode(a, b, { maxLength: 13, stride: 2 })).rejects.toThrow(/need truncation only_first or only_second/);
  });
});

describe('hf-tokenizers: XLM-R style Unigram', () => {
  test('special ids are <s>=0, <pad>=1, </s>=2, <unk>=3 and the RoBERTa pair template applies', async () => {
    expect([unigram.clsId, unigram.padId, unigram.sepId, unigram.unkId]).toEqual([0, 1, 2, 3]);
    const [e] = await unigram.encode('hello world', 'the cat');
    expect(e!.ids.map((id) => unigram.idToToken(id))).toEqual(['<s>', '▁hello', '▁world', '</s>', '</s>', '▁the', '▁cat', '</s>']);
    expect(e!.typeIds).toEqual(Array(8).fill(0));
    expect(e!.sequenceIds).toEqual([null, 0, 0, null, null, 1, 1, null]);
    expect(unigram.source.modelMaxLength).toBe(512);
  });

  test('offsets after emoji are UTF-16, and encodeWords matches the joined text', async () => {
    const text = '😀 hello 🐈 world';
    const [e] = await unigram.encode(text);
    const i = e!.ids.indexOf(unigram.idToToken(0) === '<s>' ? e!.ids.find((id) => unigram.idToToken(id) === '▁world')! : -1);
    expect(text.slice(...e!.offsets[i]!).trim()).toBe('world');
    const words = ['the', 'cat', 'sat', 'on', 'the', 'mat', '.'];
    const [w] = await unigram.encodeWords(words);
    const [j] = await unigram.encode(words.join(' '));
    expect(w!.ids).toEqual(j!.ids);
    expect(w!.wordIds).toEqual(j!.wordIds);
    expect(await unigram.decode(w!.ids)).toBe('the cat sat on the mat .');
  });
});

describe('hf-tokenizers: errors and binding', () => {
  test('a folder without tokenizer files, bad JSON and missing specials are InputErrors naming the file', async () => {
    const empty = join(root, 'empty');
    await mkdir(empty);
    await expect(loadTokenizer(empty)).rejects.toThrow(/empty: expected a tokenizer folder with tokenizer.json or vocab.txt/);
    const broken = join(root, 'broken');
    await mkdir(broken);
    await writeFile(join(broken, 'tokenizer.json'), '{"model": ');
    await expect(loadTokenizer(broken)).rejects.toThrow(InputError);
    await expect(loadTokenizer(broken)).rejects.toThrow(/broken\/tokenizer.json: expected JSON/);
    const noCls = join(root, 'nocls');
    await mkdir(noCls);
    await writeFile(join(noCls, 'vocab.txt'), '[PAD]\n[UNK]\nhello\n');
    await expect(loadTokenizer(noCls)).rejects.toThrow(/vocab.txt: expected the tokens \[CLS\] and \[SEP\]/);
  });

  test('tokenizerModule binds the hf-tokenizers provider, which loads both folder kinds', async () => {
    const container = new Container();
    await container.load(tokenizerModule);
    const [provider] = container.getAll<TokenizerProvider>(TokenizerProvider);
    expect(provider!.id).toBe('hf-tokenizers');
    expect(await provider!.canLoad(join(root, 'vocab'))).toBe(true);
    expect(await provider!.canLoad(root)).toBe(false);
    const tokenizer = await provider!.load(join(root, 'xlmr'));
    expect(tokenizer.sepId).toBe(2);
  });

  test('codePointToUtf16 maps past astral characters', () => {
    const map = codePointToUtf16('a😀b𝔘c');
    expect([0, 1, 2, 3, 4, 5, 9].map(map)).toEqual([0, 1, 3, 4, 6, 7, 7]);
  });
});
