import type { Command } from 'commander';
import { selectBackend } from '../backends/select-backend.js';
import {
  type Engine,
  InputError,
  XltError,
  type CliCommand,
  type Tokenizer,
  writeSafetensors,
  readText,
  positiveInt,
} from '@xlt/plugin-api';
import { loadPretrained } from './load-pretrained.js';

/** Options of `xlt encode`. */
export interface EncodeFileOptions {
  readonly model: string;
  readonly input: string;
  readonly out: string;
  readonly maxLength?: number;
  readonly backend?: string;
  readonly batchSize?: number;
  /** Status lines (backend choice, summary); default stderr. */
  readonly log?: (line: string) => void;
}

/** Finds a tokenizer provider that can read the folder. */
export async function loadFolderTokenizer(engine: Engine, folder: string): Promise<Tokenizer> {
  for (const provider of engine.tokenizers.all()) if (await provider.canLoad(folder)) return provider.load(folder);
  const known = engine.tokenizers.ids();
  throw new InputError([
    { file: folder, expected: `tokenizer files one of the tokenizer providers reads (${known.length ? known.join(', ') : 'none is registered'})`, found: 'none (no tokenizer.json or vocab.txt?)' },
  ]);
}

/**
 * Encodes each line of a text file with a model and writes `input_ids` (int32 `[N, T]`), `attention_mask`
 * (int32 `[N, T]`) and `last_hidden_state` (float32 `[N, T, H]`) to a safetensors file, padded to the longest
 * line. Returns the number of lines and the padded length.
 */
export async function encodeFile(engine: Engine, options: EncodeFileOptions): Promise<{ lines: number; sequenceLength: number }> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const batchSize = options.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new XltError(`--batch-size must be a whole number >= 1, found ${batchSize}.`);
  const model = await loadPretrained(options.model, { engine });
  const tokenizer = await loadFolderTokenizer(engine, model.folder);
  const text = await readText(options.input);
  const lines = text.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new InputError([{ file: options.input, expected: 'at least one line of text', found: 'an empty file' }]);
  const { config, provider } = model;
  // RoBERTa positions start after the pad id, so fewer tokens fit than max_position_embeddings.
  const positionLimit = provider.positionIds(new Array(config.maxPositionEmbeddings).fill(-1), config).findIndex((p) => p >= config.maxPositionEmbeddings);
  const modelLimit = positionLimit === -1 ? config.maxPositionEmbeddings : positionLimit;
  const maxLength = options.maxLength ?? modelLimit;
  if (!Number.isInteger(maxLength) || maxLength < 2 || maxLength > modelLimit) {
    throw new XltError(`--max-length must be an integer from 2 to ${modelLimit} (this model's limit), found ${options.maxLength}.`);
  }
  const encodings = await Promise.all(lines.map(async (line) => (await tokenizer.encode(line, undefined, { maxLength }))[0]!));
  const N = lines.length;
  const T = Math.max(...encodings.map((e) => e.ids.length));
  const H = config.hiddenSize;
  const inputIds = new Int32Array(N * T).fill(tokenizer.padId);
  const tokenTypeIds = new Int32Array(N * T);
  const attentionMask = new Int32Array(N * T);
  const positionIds = new Int32Array(N * T);
  encodings.forEach((e, r) => {
    inputIds.set(e.ids, r * T);
    tokenTypeIds.set(e.typeIds, r * T);
    attentionMask.fill(1, r * T, r * T + e.ids.length);
    positionIds.set(provider.positionIds(Array.from(inputIds.subarray(r * T, (r + 1) * T)), config), r * T);
  });
  const choice = await selectBackend(engine.backends, options.backend);
  log(choice.line);
  const runtime = await choice.backend.createEncoder(config, provider, model.encoder);
  const hidden = new Float32Array(N * T * H);
  try {
    for (let start = 0; start < N; start += batchSize) {
      const B = Math.min(batchSize, N - start);
      const slice = (a: Int32Array) => a.subarray(start * T, (start + B) * T);
      const out = await runtime.forward(
        { batchSize: B, sequenceLength: T, inputIds: slice(inputIds), tokenTypeIds: slice(tokenTypeIds), attentionMask: slice(attentionMask), positionIds: slice(positionIds) },
        { training: false },
      );
      hidden.set(out, start * T * H);
    }
  } finally {
    runtime.dispose();
  }
  await writeSafetensors(
    options.out,
    [
      { name: 'input_ids', dtype: 'I32', shape: [N, T], data: inputIds },
      { name: 'attention_mask', dtype: 'I32', shape: [N, T], data: attentionMask },
      { name: 'last_hidden_state', dtype: 'F32', shape: [N, T, H], data: hidden },
    ],
    { format: 'pt', model: options.model },
  );
  log(`encoded ${N} line${N === 1 ? '' : 's'} (padded to ${T} tokens, hidden size ${H}) into ${options.out}`);
  return { lines: N, sequenceLength: T };
}

/** `xlt encode`: last hidden states of each line of a text file, into a safetensors file. */
export const encodeCommand: CliCommand = {
  id: 'encode',
  description: 'Encode each line of a text file with a model; write input_ids, attention_mask and last_hidden_state to a .safetensors file',
  configure(command: Command, engine: Engine) {
    command
      .requiredOption('--model <dir-or-id>', 'HF model folder or hub id (org/name)')
      .requiredOption('--input <file>', 'text file, one sequence per line (.gz accepted)')
      .requiredOption('--out <file>', 'output .safetensors file')
      .option('--max-length <n>', 'truncate sequences to n tokens (default: the model maximum)', positiveInt('--max-length'))
      .option('--backend <id>', 'training backend id (default: the best available)')
      .option('--batch-size <n>', 'lines per forward pass', positiveInt('--batch-size'), 16)
      .action(async (opts: { model: string; input: string; out: string; maxLength?: number; backend?: string; batchSize: number }) => {
        await encodeFile(engine, opts);
      });
  },
};
