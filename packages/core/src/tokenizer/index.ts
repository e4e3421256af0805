/**
 * Tokenizers: the `hf-tokenizers` provider over Hugging Face `tokenizers`, with UTF-16 offsets and
 * pre-tokenized (tagging) input.
 * @packageDocumentation
 */
export { HfTokenizer, windowRanges, type SpecialTokenIds, type NativeTokenizerFactory, type HfTokenizerSource } from './hf-tokenizer.js';
export { loadTokenizer, patchLegacyModel } from './load-tokenizer.js';
export { codePointToUtf16 } from './offsets.js';
export { HfTokenizersProvider } from './tokenizer-provider.js';
export { tokenizerModule } from './tokenizer-module.js';
