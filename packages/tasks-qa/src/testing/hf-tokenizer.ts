import type { EncodeOptions, Encoding, Tokenizer } from '@xlt/plugin-api';
import { Tokenizer as HfTokenizer } from 'tokenizers';

/** UTF-16 index of each code-point index of `text` (one extra entry for the end). */
function codePointToUtf16(text: string): Int32Array {
  const map = new Int32Array(text.length + 1);
  let cp = 0;
  let u = 0;
  for (const ch of text) {
    map[cp++] = u;
    u += ch.length;
  }
  map[cp] = u;
  return map.subarray(0, cp + 1);
}

/**
 * Test helper until the core tokenizer provider lands: a core {@link Tokenizer} over HF `tokenizers` loaded from a
 * `tokenizer.json`, converting offsets from code points to UTF-16. No truncation: `maxLength` shorter than the
 * encoding is an error here.
 */
export function hfTokenizer(file: string): Tokenizer {
  const hf = HfTokenizer.fromFile(file);
  const vocabId = (token: string) => {
    const id = hf.tokenToId(token);
    if (id === null || id === undefined) throw new Error(`${file} has no token ${token}`);
    return id;
  };
  const toEncoding = (e: Awaited<ReturnType<HfTokenizer['encode']>>, texts: string[]): Encoding => {
    const maps = texts.map(codePointToUtf16);
    const sequenceIds = e.getSequenceIds().map((s) => (s === undefined || s === null ? null : s));
    const special = e.getSpecialTokensMask();
    const offsets = e.getOffsets().map(([s, t], i): [number, number] => {
      const seq = sequenceIds[i];
      if (special[i] || seq === null) return [0, 0];
      const map = maps[seq!]!;
      return [map[s!]!, map[t!]!];
    });
    return { ids: e.getIds(), typeIds: e.getTypeIds(), offsets, wordIds: e.getWordIds().map((w) => w ?? null), sequenceIds };
  };
  return {
    vocabSize: hf.getVocabSize(true),
    padId: vocabId('[PAD]'),
    clsId: vocabId('[CLS]'),
    sepId: vocabId('[SEP]'),
    unkId: vocabId('[UNK]'),
    async encode(text: string, pair?: string, options?: EncodeOptions) {
      const e = await hf.encode(text, pair ?? null, { addSpecialTokens: true });
      if (options?.maxLength !== undefined && e.getLength() > options.maxLength) throw new Error('hfTokenizer (test helper) does not truncate');
      return [toEncoding(e, pair === undefined ? [text] : [text, pair])];
    },
    async encodeWords() {
      throw new Error('hfTokenizer (test helper): encodeWords is not needed by QA');
    },
    async decode(ids: readonly number[]) {
      return hf.decode([...ids], true);
    },
  };
}
