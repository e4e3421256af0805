import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withPath } from '@xlt/plugin-api';
import { bertProvider } from '../encoders/bert-provider.js';
import { initEncoderParameters } from '../model/init-parameters.js';
import { savePretrained } from '../model/save-pretrained.js';

/**
 * Writes a tiny randomly initialised BERT folder (`config.json`, `model.safetensors`, `vocab.txt`,
 * `tokenizer_config.json`) for a vocabulary: small enough to fine-tune a grid on a CPU in minutes.
 */
export async function writeTinyEncoder(folder: string, vocabulary: readonly string[], seed: number): Promise<void> {
  await mkdir(folder, { recursive: true });
  const scratch = `${folder}.tokenizer`;
  await mkdir(scratch, { recursive: true });
  const vocabFile = join(scratch, 'vocab.txt');
  const tokenizerConfig = join(scratch, 'tokenizer_config.json');
  try {
    await writeFile(vocabFile, `${vocabulary.join('\n')}\n`);
    await writeFile(tokenizerConfig, JSON.stringify({ do_lower_case: false, tokenize_chinese_chars: true, strip_accents: null, model_max_length: 64, tokenizer_class: 'BertTokenizer' }, null, 2));
  } catch (error) {
    throw withPath(error, scratch);
  }
  const raw = {
    architectures: ['BertModel'],
    model_type: 'bert',
    vocab_size: vocabulary.length,
    hidden_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 64,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    max_position_embeddings: 64,
    type_vocab_size: 2,
    initializer_range: 0.02,
    layer_norm_eps: 1e-12,
    pad_token_id: 0,
  };
  const config = bertProvider.parseConfig(raw, join(folder, 'config.json'));
  await savePretrained(folder, { config, tensors: initEncoderParameters(config, bertProvider, seed), tokenizerFiles: [vocabFile, tokenizerConfig] });
  await rm(scratch, { recursive: true, force: true });
}
