import { ContainerModule } from 'inversify';
import { TokenizerProvider } from '@xlt/plugin-api';
import { HfTokenizersProvider } from './tokenizer-provider.js';

/** Binds the built-in tokenizer provider (`hf-tokenizers`). */
export const tokenizerModule = new ContainerModule(({ bind }) => {
  bind<TokenizerProvider>(TokenizerProvider).toConstantValue(new HfTokenizersProvider());
});
