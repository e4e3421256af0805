import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  describeFound,
  InputError,
  type InputIssue,
  XltError,
  type EncoderProvider,
  type HostTensor,
  type NamedTensors,
  readText,
} from '@xlt/plugin-api';
import { findEncoderProvider } from '../encoders/find-provider.js';
import { poolerShapes } from '../encoders/parameter-shapes.js';
import { openModelWeights } from '../torch-bin/model-weights.js';
import { resolveModel, type ResolveModelOptions } from '../hub/resolve-model.js';
import { TOKENIZER_FILE_NAMES } from '@xlt/plugin-api';
import type { PretrainedModel } from './pretrained-model.js';

/** Where {@link loadPretrained} finds encoder providers: the engine or a plain list. */
export interface LoadPretrainedOptions {
  readonly engine?: { readonly encoders: { all(): EncoderProvider[] } };
  readonly providers?: readonly EncoderProvider[];
  /** How hub ids are resolved (cache, offline, endpoint); folders are read in place. */
  readonly hub?: ResolveModelOptions;
}

/**
 * Tensor-name prefixes of pretraining heads that fine-tuning drops: `cls.predictions.*` (the MLM transform, bias and
 * the decoder, tied to the word embeddings or stored apart) and `cls.seq_relationship.*` of BertForMaskedLM /
 * BertForPreTraining, `lm_head.*` of (XLM-)RobertaForMaskedLM.
 */
const IGNORED_HEADS = ['cls.', 'lm_head.'];

/**
 * The modern name of a tensor, as transformers' `_fix_state_dict_key_on_load` renames keys on load: checkpoints
 * converted from Google's TensorFlow BERT name LayerNorm parameters `gamma` / `beta`.
 */
export function modernTensorName(stored: string): string {
  if (stored.endsWith('LayerNorm.beta')) return `${stored.slice(0, -'beta'.length)}bias`;
  if (stored.endsWith('LayerNorm.gamma')) return `${stored.slice(0, -'gamma'.length)}weight`;
  return stored;
}

/** Reads and validates `config.json` of a model folder, choosing the provider by its `model_type`. */
export async function readEncoderConfig(folder: string, providers: readonly EncoderProvider[]) {
  const file = join(folder, 'config.json');
  const text = await readText(file);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InputError([{ file, expected: 'a JSON object (an HF config.json)', found: `invalid JSON (${(error as Error).message})` }]);
  }
  const provider = findEncoderProvider(raw, file, providers);
  return { provider, config: provider.parseConfig(raw, file) };
}

/**
 * Loads an HF model folder: `config.json` plus the weights `from_pretrained` would read (`model.safetensors` or its
 * sharded index, else `pytorch_model.bin` or its sharded index; see {@link openModelWeights}).
 * Tensors are matched by HF name, with or without the `bert.` / `roberta.` prefix (BertModel and BertFor* layouts
 * both work) and with legacy LayerNorm `gamma` / `beta` names renamed as transformers does
 * ({@link modernTensorName}); MLM and pretraining heads are read past and listed in `ignored`; other non-encoder
 * tensors are kept as head tensors.
 * A missing encoder tensor, a wrong shape or a non-float dtype is an {@link InputError} naming the tensor, the
 * expected and found shapes and the file; every problem is reported at once. Hub ids (`org/name`) are downloaded to the cache first (see `resolveModel`).
 */
export async function loadPretrained(folderOrId: string, options: LoadPretrainedOptions): Promise<PretrainedModel> {
  const folder = await resolveModel(folderOrId, options.hub);
  const providers = options.providers ?? options.engine?.encoders.all() ?? [];
  const { provider, config } = await readEncoderConfig(folder, providers);
  const prefix = provider.parameterPrefix;
  const expected = provider.parameterShapes(config);
  const pooler = poolerShapes(config, prefix);
  const checkpoint = await openModelWeights(folder);
  try {
    const issues: InputIssue[] = [];
    const ignored: string[] = [];
    /** Canonical name → stored name. */
    const encoderNames = new Map<string, string>();
    const headNames: string[] = [];
    const bare = ['embeddings.', 'encoder.', 'pooler.'];
    for (const [stored, info] of checkpoint.tensors) {
      if (IGNORED_HEADS.some((h) => stored.startsWith(h))) {
        ignored.push(stored);
        continue;
      }
      const modern = modernTensorName(stored);
      const canonical = modern.startsWith(prefix) ? modern : bare.some((b) => modern.startsWith(b)) ? prefix + modern : undefined;
      if (canonical === undefined) {
        headNames.push(stored);
        continue;
      }
      const shape = expected.get(canonical) ?? pooler.get(canonical);
      if (!shape) {
        // Buffers older HF versions saved (position_ids, token_type_ids) are not parameters.
        if (/embeddings\.(position_ids|token_type_ids)$/.test(canonical)) ignored.push(stored);
        else issues.push({ file: info.file, path: stored, expected: `no such tensor: a ${config.modelType} encoder with ${config.numHiddenLayers} layers has no parameter ${canonical}`, found: `a tensor of shape [${info.shape.join(', ')}]` });
        continue;
      }
      if (encoderNames.has(canonical)) {
        issues.push({ file: info.file, path: stored, expected: `one tensor for ${canonical}`, found: `both ${encoderNames.get(canonical)} and ${stored}` });
        continue;
      }
      if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
        issues.push({ file: info.file, path: stored, expected: `shape [${shape.join(', ')}] (from config.json)`, found: `shape [${info.shape.join(', ')}]` });
      } else if (!['F16', 'BF16', 'F32', 'F64'].includes(info.dtype)) {
        issues.push({ file: info.file, path: stored, expected: 'a float dtype (F16, BF16, F32, F64)', found: describeFound(info.dtype) });
      }
      encoderNames.set(canonical, stored);
    }
    for (const [name, shape] of expected) {
      if (!encoderNames.has(name)) {
        const bareName = name.slice(prefix.length);
        issues.push({ file: checkpoint.path, path: name, expected: `a tensor of shape [${shape.join(', ')}] (stored as ${name} or ${bareName})`, found: 'nothing' });
      }
    }
    if (issues.length) throw new InputError(issues, `${folder}: the checkpoint does not match its config.json (${issues.length} problem${issues.length > 1 ? 's' : ''}).`);

    // A NaN or infinity in the weights would train and evaluate to garbage with no error, so it stops here.
    const nonFinite: InputIssue[] = [];
    const read = async (stored: string): Promise<HostTensor> => {
      const info = checkpoint.tensors.get(stored)!;
      const data = await checkpoint.readFloat32(stored);
      const bad = countNonFinite(data);
      if (bad.count) nonFinite.push({ file: info.file, path: stored, expected: 'finite values', found: `${bad.count} of ${data.length} values not finite (first at index ${bad.first}: ${data[bad.first]})` });
      return { shape: [...info.shape], data };
    };
    const encoder: NamedTensors = new Map();
    for (const name of expected.keys()) encoder.set(name, await read(encoderNames.get(name)!));
    const poolerTensors: NamedTensors = new Map();
    const poolerPresent = [...pooler.keys()].filter((n) => encoderNames.has(n));
    if (poolerPresent.length === pooler.size) for (const name of pooler.keys()) poolerTensors.set(name, await read(encoderNames.get(name)!));
    else if (poolerPresent.length) throw new XltError(`${checkpoint.path}: the pooler is incomplete (has ${poolerPresent.join(', ')}, lacks ${[...pooler.keys()].filter((n) => !encoderNames.has(n)).join(', ')}).`);
    const head: NamedTensors = new Map();
    for (const name of headNames) {
      const info = checkpoint.tensors.get(name)!;
      if (['F16', 'BF16', 'F32', 'F64'].includes(info.dtype)) head.set(modernTensorName(name), await read(name));
      else ignored.push(name);
    }
    if (nonFinite.length) throw new InputError(nonFinite, `${folder}: the weights hold values that are not finite (a diverged run or a damaged file?).`);
    const entries = await readdir(folder);
    const tokenizerFiles = TOKENIZER_FILE_NAMES.filter((n) => entries.includes(n)).map((n) => join(folder, n));
    return { folder, config, provider, encoder, pooler: poolerTensors, head, ignored, tokenizerFiles };
  } finally {
    await checkpoint.close();
  }
}

/** How many values of `data` are NaN or infinite, and the index of the first. */
function countNonFinite(data: Float32Array): { count: number; first: number } {
  let count = 0;
  let first = -1;
  for (let i = 0; i < data.length; i++) {
    // x - x is 0 for every finite x and NaN for NaN and both infinities: one test per value.
    if (data[i]! - data[i]! !== 0) {
      if (count++ === 0) first = i;
    }
  }
  return { count, first };
}
