/**
 * Tokenizers: the `hf-tokenizers` provider over Hugging Face `tokenizers`, with UTF-16 offsets, overflowing
 * windows and pre-tokenized (tagging) input.
 * @packageDocumentation
 */
export { HfTokenizer, type SpecialTokenIds, type HfTokenizerSource } from './hf-tokenizer.js';
export { loadTokenizer, patchLegacyModel } from './load-tokenizer.js';
export { codePointToUtf16 } from './offsets.js';
export { windowRanges, truncationPlan, type WindowPlan } from './truncation.js';
export { readTemplates, type Template, type TemplatePart, type Templates } from './templates.js';
export { HfTokenizersProvider } from './tokenizer-provider.js';
export { tokenizerModule } from './tokenizer-module.js';
export { writeTinyWordPieceTokenizer, writeTinyUnigramTokenizer } from './tiny-tokenizers.js';
