import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  InputError,
  openCheckpoint,
  SAFETENSORS_FILE,
  SAFETENSORS_INDEX_FILE,
  type TensorCheckpoint,
} from '@xlt/plugin-api';
import { openTorchCheckpoint, openTorchSharded, PYTORCH_INDEX_FILE, PYTORCH_WEIGHTS_FILE } from './torch-checkpoint.js';

/** The weight files of an HF model folder that xlt reads: safetensors (single or sharded), then PyTorch. */
export const MODEL_WEIGHT_FILES: readonly string[] = [SAFETENSORS_FILE, SAFETENSORS_INDEX_FILE, PYTORCH_WEIGHTS_FILE, PYTORCH_INDEX_FILE];

/**
 * Opens the weights of an HF model folder as transformers' `from_pretrained` chooses them: safetensors first
 * (`model.safetensors` or its sharded index, as {@link openCheckpoint} picks), then PyTorch (`pytorch_model.bin`,
 * then its sharded index). A
 * folder with none of them is an {@link InputError} naming the folder, the files looked for and what it holds.
 */
export async function openModelWeights(folder: string): Promise<TensorCheckpoint> {
  let entries: string[];
  try {
    entries = await readdir(folder);
  } catch (error) {
    throw new InputError([{ file: folder, expected: 'a model folder', found: (error as NodeJS.ErrnoException).code ?? String(error) }]);
  }
  if (entries.includes(SAFETENSORS_FILE) || entries.includes(SAFETENSORS_INDEX_FILE)) return openCheckpoint(folder);
  if (entries.includes(PYTORCH_WEIGHTS_FILE)) return openTorchCheckpoint(join(folder, PYTORCH_WEIGHTS_FILE));
  if (entries.includes(PYTORCH_INDEX_FILE)) return openTorchSharded(join(folder, PYTORCH_INDEX_FILE));
  const weights = entries.filter((e) => /\.(safetensors|bin|pt|pth|ckpt|h5|msgpack)$|\.index\.json$/.test(e)).slice(0, 5);
  throw new InputError([
    { file: folder, expected: `model weights (one of ${MODEL_WEIGHT_FILES.join(', ')})`, found: weights.length ? `only ${weights.join(', ')}` : 'none of them' },
  ]);
}
