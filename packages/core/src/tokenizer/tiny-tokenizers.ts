import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Words of the tiny vocabularies: enough for sentences, pairs and sub-word splits in tests. */
const WORDS = ['hello', 'world', 'the', 'cat', 'sat', 'on', 'mat', 'a', 'dog', 'is', 'here', 'where', '?', '.', ',', '!'];
const PIECES = ['##s', '##ed', '##ing', '##o', '##ld', '##at', 'wor', 'ca', 'h', 'e', 'l', 'o', '##l', '##e'];

/**
 * Writes a tiny BERT-style tokenizer folder (`vocab.txt` with `[PAD]`=0, `[UNK]`=1, `[CLS]`=2, `[SEP]`=3,
 * `[MASK]`=4, plus `tokenizer_config.json`), and with `json` also a `tokenizer.json` in the older format whose
 * `model` has no `type`, as the shared mBERT one. For offline tests of anything that tokenizes.
 */
export async function writeTinyWordPieceTokenizer(folder: string, options: { json?: boolean } = {}): Promise<string> {
  await mkdir(folder, { recursive: true });
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS, ...PIECES];
  await writeFile(join(folder, 'vocab.txt'), `${vocab.join('\n')}\n`);
  await writeFile(
    join(folder, 'tokenizer_config.json'),
    JSON.stringify({ do_lower_case: false, model_max_length: 32, unk_token: '[UNK]', cls_token: '[CLS]' }),
  );
  if (options.json) {
    const special = (id: number, content: string) => ({
      id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
    });
    const json = {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: vocab.slice(0, 5).map((token, id) => special(id, token)),
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: false },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
        pair: [
          { SpecialToken: { id: '[CLS]', type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: '[SEP]', type_id: 0 } },
          { Sequence: { id: 'B', type_id: 1 } },
          { SpecialToken: { id: '[SEP]', type_id: 1 } },
        ],
        special_tokens: {
          '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
          '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
        },
      },
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: {
        unk_token: '[UNK]',
        continuing_subword_prefix: '##',
        max_input_chars_per_word: 100,
        vocab: Object.fromEntries(vocab.map((token, id) => [token, id])),
      },
    };
    await writeFile(join(folder, 'tokenizer.json'), JSON.stringify(json));
  }
  return folder;
}

/**
 * Writes a tiny XLM-R-style tokenizer folder: a Unigram `tokenizer.json` with `<s>`=0, `<pad>`=1, `</s>`=2,
 * `<unk>`=3, a Metaspace pre-tokenizer and the RoBERTa template `<s> A </s></s> B </s>`.
 */
export async function writeTinyUnigramTokenizer(folder: string): Promise<string> {
  await mkdir(folder, { recursive: true });
  const specials = ['<s>', '<pad>', '</s>', '<unk>'];
  const pieces = ['▁', ...WORDS.map((w) => `▁${w}`), 'h', 'e', 'l', 'o', 'w', 'r', 'd', 's', 't', 'a', 'c', '?', '.', '▁wor', 'ld'];
  const vocab: [string, number][] = [...specials.map((s): [string, number] => [s, 0]), ...pieces.map((p, i): [string, number] => [p, -2 - i * 0.01])];
  const special = (token: string) => ({
    id: specials.indexOf(token), content: token, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  });
  const s = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  const metaspace = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true };
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map(special),
    normalizer: null,
    pre_tokenizer: metaspace,
    post_processor: {
      type: 'TemplateProcessing',
      single: [s('<s>'), { Sequence: { id: 'A', type_id: 0 } }, s('</s>')],
      pair: [s('<s>'), { Sequence: { id: 'A', type_id: 0 } }, s('</s>'), s('</s>'), { Sequence: { id: 'B', type_id: 0 } }, s('</s>')],
      special_tokens: {
        '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] },
        '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] },
      },
    },
    decoder: metaspace,
    model: { type: 'Unigram', unk_id: 3, vocab, byte_fallback: false },
  };
  await writeFile(join(folder, 'tokenizer.json'), JSON.stringify(json));
  await writeFile(join(folder, 'config.json'), JSON.stringify({
    // A complete XLM-R config: the tokenizer asks the encoder provider how many position rows precede the first token.
    model_type: 'xlm-roberta', max_position_embeddings: 514, vocab_size: pieces.length + specials.length,
    hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16,
  }));
  return folder;
}
