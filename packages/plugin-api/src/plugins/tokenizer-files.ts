/**
 * File names of HF tokenizers that a model folder may hold; `savePretrained` copies those it is given and
 * `resolveModel` downloads those the hub has.
 */
export const TOKENIZER_FILE_NAMES: readonly string[] = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'vocab.txt',
  'vocab.json',
  'merges.txt',
  'sentencepiece.bpe.model',
  'spiece.model',
];
