import { join } from 'node:path';
import { XltError, type Tokenizer } from '@xlt/plugin-api';
import type { PretrainedModel } from '../model/pretrained-model.js';

/**
 * The longest input the model's position embeddings allow, found with the provider's own position ids (so it
 * holds for any architecture: 512 for BERT's 512 rows, 512 for XLM-R's 514 rows, which start after the padding row).
 */
export function longestInput(pretrained: Pick<PretrainedModel, 'config' | 'provider'>, length: number): number {
  const { config, provider } = pretrained;
  const filler = config.padTokenId === 0 ? 1 : 0;
  const top = Math.max(...provider.positionIds(new Array<number>(length).fill(filler), config));
  return length - Math.max(0, top - (config.maxPositionEmbeddings - 1));
}

/**
 * Refuses, before anything trains or predicts, a maximum length the model's position embeddings cannot hold and a
 * tokenizer whose ids run past the embedding matrix: both would otherwise fail deep in the backend, mid-run, naming
 * neither the setting nor the model. `setting` names where the length came from (`training.maxLength`, `--max-length`).
 */
export function checkModelFits(pretrained: Pick<PretrainedModel, 'config' | 'provider' | 'folder'>, tokenizer: Tokenizer, maxLength: number, setting: string): void {
  const { config, folder } = pretrained;
  const file = join(folder, 'config.json');
  const problems: string[] = [];
  const longest = longestInput(pretrained, maxLength);
  if (longest < maxLength) {
    problems.push(`${setting} is ${maxLength}, but ${file} allows inputs of at most ${longest} tokens (max_position_embeddings ${config.maxPositionEmbeddings}, model_type ${config.modelType}); lower ${setting}`);
  }
  if (tokenizer.vocabSize > config.vocabSize) {
    problems.push(`the tokenizer of ${folder} has ${tokenizer.vocabSize} ids, but ${file} has vocab_size ${config.vocabSize}: ids past ${config.vocabSize - 1} have no embedding (a tokenizer from another model?)`);
  }
  if (problems.length) throw new XltError(`The model cannot take this input:\n  - ${problems.join('\n  - ')}`);
}
