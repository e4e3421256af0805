import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Tokenizer, TokenizerProvider } from '@xlt/plugin-api';
import { loadTokenizer } from './load-tokenizer.js';

/** The `hf-tokenizers` provider: HF model folders with `tokenizer.json` (WordPiece, Unigram, BPE) or `vocab.txt`. */
export class HfTokenizersProvider implements TokenizerProvider {
  readonly id = 'hf-tokenizers';
  readonly description = 'Hugging Face tokenizers: tokenizer.json (WordPiece, Unigram, BPE) or a WordPiece vocab.txt';

  async canLoad(folder: string): Promise<boolean> {
    return existsSync(join(folder, 'tokenizer.json')) || existsSync(join(folder, 'vocab.txt'));
  }

  load(folder: string): Promise<Tokenizer> {
    return loadTokenizer(folder);
  }
}
