import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  Tokenizer as NativeTokenizer,
  WordPiece,
  bertNormalizer,
  bertPreTokenizer,
  bertProcessing,
  wordPieceDecoder,
} from 'tokenizers';
import { bertProvider } from '../encoders/bert-provider.js';
import { xlmRobertaProvider } from '../encoders/xlm-roberta-provider.js';
import { InputError, describeFound, type EncoderProvider, readText } from '@xlt/plugin-api';
import { HfTokenizer, type SpecialTokenIds } from './hf-tokenizer.js';

type NativeTokenizerFactory = () => Promise<NativeTokenizer>;

/** Token strings tried for each special id when `tokenizer_config.json` names none: BERT first, then XLM-R. */
const CANDIDATES: Record<keyof SpecialTokenIds, readonly string[]> = {
  padId: ['[PAD]', '<pad>'],
  clsId: ['[CLS]', '<s>'],
  sepId: ['[SEP]', '</s>'],
  unkId: ['[UNK]', '<unk>'],
};
const CONFIG_KEYS: Record<keyof SpecialTokenIds, string> = {
  padId: 'pad_token',
  clsId: 'cls_token',
  sepId: 'sep_token',
  unkId: 'unk_token',
};
/** HF writes a huge sentinel for "no limit" (`int(1e30)`); anything above this is treated as unset. */
const NO_LIMIT = 1_000_000;

/**
 * Loads the tokenizer of an HF model folder: `tokenizer.json` when there is one (any model type, including the
 * older format whose `model` has no `type`), else a WordPiece `vocab.txt` with BERT's normalizer
 * (`do_lower_case`, `strip_accents` and `tokenize_chinese_chars` from `tokenizer_config.json`). Without a
 * `model_max_length`, the limit comes from `config.json`'s positions less those the `encoders` reserve (core's
 * providers by default; pass the registered ones so that plugin encoders count).
 */
export async function loadTokenizer(folder: string, encoders: readonly EncoderProvider[] = [bertProvider, xlmRobertaProvider]): Promise<HfTokenizer> {
  const config = await readJsonIfPresent(join(folder, 'tokenizer_config.json'));
  const modelConfig = await readJsonIfPresent(join(folder, 'config.json'));
  const jsonFile = join(folder, 'tokenizer.json');
  const vocabFile = join(folder, 'vocab.txt');
  let factory: NativeTokenizerFactory;
  let file: string;
  if (existsSync(jsonFile)) {
    file = jsonFile;
    const text = patchLegacyModel(await readText(jsonFile), jsonFile);
    factory = async () => NativeTokenizer.fromString(text);
  } else if (existsSync(vocabFile)) {
    file = vocabFile;
    factory = wordPieceFactory(vocabFile, config);
  } else {
    throw new InputError([
      { file: folder, expected: 'a tokenizer folder with tokenizer.json or vocab.txt', found: 'neither file' },
    ]);
  }
  let native: NativeTokenizer;
  try {
    native = await factory();
  } catch (error) {
    throw new InputError([{ file, expected: 'a tokenizer that HF tokenizers can load', found: (error as Error).message }]);
  }
  const specials = resolveSpecials(native, config, file);
  return HfTokenizer.create(native, specials, { file, modelMaxLength: modelMaxLength(config, modelConfig, join(folder, 'config.json'), encoders) });
}

/**
 * Older `tokenizer.json` files (written by tokenizers < 0.9) have a `model` without `type`; newer readers need it.
 * The type is inferred from the model's fields and added in memory.
 */
export function patchLegacyModel(text: string, file: string): string {
  let json: { model?: Record<string, unknown> };
  try {
    json = JSON.parse(text) as typeof json;
  } catch (error) {
    throw new InputError([{ file, expected: 'JSON', found: (error as Error).message }]);
  }
  const model = json.model;
  if (typeof model !== 'object' || model === null || Array.isArray(model)) {
    throw new InputError([{ file, path: 'model', expected: 'an object', found: describeFound(model) }]);
  }
  if (model.type !== undefined) return text;
  if ('continuing_subword_prefix' in model && 'vocab' in model && !('merges' in model)) model.type = 'WordPiece';
  else if ('merges' in model) model.type = 'BPE';
  else if (Array.isArray(model.vocab)) model.type = 'Unigram';
  else if ('vocab' in model) model.type = 'WordLevel';
  else throw new InputError([{ file, path: 'model.type', expected: 'a model type or a vocab', found: 'neither' }]);
  return JSON.stringify(json);
}

function wordPieceFactory(vocabFile: string, config: Record<string, unknown>): NativeTokenizerFactory {
  const lowercase = config.do_lower_case === true;
  // HF BertTokenizer: strip_accents unset (null) follows lowercase.
  const stripAccents = typeof config.strip_accents === 'boolean' ? config.strip_accents : lowercase;
  const handleChineseChars = config.tokenize_chinese_chars !== false;
  const name = (key: string, fallback: string) => tokenName(config[key]) ?? fallback;
  const unk = name('unk_token', '[UNK]');
  const cls = name('cls_token', '[CLS]');
  const sep = name('sep_token', '[SEP]');
  const specials = [name('pad_token', '[PAD]'), unk, cls, sep, name('mask_token', '[MASK]')];
  return async () => {
    const model = await WordPiece.fromFile(vocabFile, { unkToken: unk, continuingSubwordPrefix: '##' });
    const tokenizer = new NativeTokenizer(model);
    tokenizer.setNormalizer(bertNormalizer({ cleanText: true, handleChineseChars, stripAccents, lowercase }));
    tokenizer.setPreTokenizer(bertPreTokenizer());
    tokenizer.setDecoder(wordPieceDecoder('##', true));
    // Registered as special so that they are matched before normalisation and skipped by decode, as in tokenizer.json.
    tokenizer.addSpecialTokens(specials.filter((token) => tokenizer.tokenToId(token) !== null));
    const clsId = tokenizer.tokenToId(cls);
    const sepId = tokenizer.tokenToId(sep);
    if (clsId === null || sepId === null) {
      throw new InputError([{ file: vocabFile, expected: `the tokens ${cls} and ${sep}`, found: 'a vocabulary without them' }]);
    }
    tokenizer.setPostProcessor(bertProcessing([sep, sepId], [cls, clsId]));
    return tokenizer;
  };
}

function resolveSpecials(tokenizer: NativeTokenizer, config: Record<string, unknown>, file: string): SpecialTokenIds {
  const resolved: Partial<Record<keyof SpecialTokenIds, number>> = {};
  for (const key of Object.keys(CANDIDATES) as (keyof SpecialTokenIds)[]) {
    const named = tokenName(config[CONFIG_KEYS[key]]);
    const tried = named !== undefined ? [named] : CANDIDATES[key];
    const id = tried.map((token) => tokenizer.tokenToId(token)).find((i) => i !== null && i !== undefined);
    if (id === undefined || id === null) {
      throw new InputError([
        { file, expected: `a ${CONFIG_KEYS[key]} (${tried.join(' or ')}) in the vocabulary`, found: 'none of them' },
      ]);
    }
    resolved[key] = id;
  }
  return resolved as SpecialTokenIds;
}

function modelMaxLength(config: Record<string, unknown>, modelConfig: Record<string, unknown>, file: string, encoders: readonly EncoderProvider[]): number {
  const fromTokenizer = config.model_max_length;
  if (typeof fromTokenizer === 'number' && fromTokenizer > 0 && fromTokenizer < NO_LIMIT) return fromTokenizer;
  const positions = modelConfig.max_position_embeddings;
  if (typeof positions === 'number' && positions > 0) return positions - reservedPositions(modelConfig, file, encoders);
  return 512;
}

/**
 * Position rows before the first token's, asked of the encoder provider that reads the config so that the
 * tokenizer knows no architecture: RoBERTa-style providers pad at `positionPaddingIdx` and count tokens from the
 * row after it (2 rows for XLM-R); BERT reserves none. A config no provider reads, or one that does not validate
 * (the encoder's own load reports that), reserves none.
 */
function reservedPositions(modelConfig: Record<string, unknown>, file: string, encoders: readonly EncoderProvider[]): number {
  const provider = encoders.find((p) => p.modelTypes.includes(String(modelConfig.model_type)));
  if (!provider?.positionPaddingIdx) return 0;
  let padIdx: number | undefined;
  try {
    padIdx = provider.positionPaddingIdx(provider.parseConfig(modelConfig, file));
  } catch (error) {
    if (error instanceof InputError) return 0;
    throw error;
  }
  return padIdx === undefined ? 0 : padIdx + 1;
}

/** A special token as `tokenizer_config.json` writes it: a string or an `AddedToken` object with `content`. */
function tokenName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

async function readJsonIfPresent(file: string): Promise<Record<string, unknown>> {
  if (!existsSync(file)) return {};
  const text = await readText(file);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputError([{ file, expected: 'JSON', found: (error as Error).message }]);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError([{ file, path: '', expected: 'a JSON object', found: describeFound(value) }]);
  }
  return value as Record<string, unknown>;
}
