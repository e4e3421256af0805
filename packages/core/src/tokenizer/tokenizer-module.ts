import { ContainerModule } from 'inversify';
import { TokenizerProvider } from '../plugins/tokenizer.js';
import { HfTokenizersProvider } from './tokenizer-provider.js';

/** Binds the built-in tokenizer provider (`hf-tokenizers`). */
export const tokenizerModule = new ContainerModule(({ bind }) => {
  bind<TokenizerProvider>(TokenizerProvider).toConstantValue(new HfTokenizersProvider());
});
