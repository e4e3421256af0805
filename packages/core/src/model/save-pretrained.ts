import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { XltError, type EncoderConfig, type NamedTensors, SAFETENSORS_FILE, withPath, writeSafetensors } from '@xlt/plugin-api';

/** What {@link savePretrained} writes. */
export interface SavePretrainedOptions {
  /** The encoder config; `raw` is written back with every field, `architectures` replaced when given. */
  readonly config: EncoderConfig;
  /** Encoder (and pooler) tensors by HF name, with prefix. */
  readonly tensors: NamedTensors;
  /** Task-head tensors (`classifier.weight`, ...), written after the encoder ones. */
  readonly headTensors?: NamedTensors;
  /** Tokenizer files to copy into the folder (paths; each keeps its base name). */
  readonly tokenizerFiles?: readonly string[];
  /** HF class name for `architectures`, e.g. `BertForTokenClassification`. */
  readonly architecture?: string;
  /** Extra `config.json` fields (e.g. `id2label`, `label2id`, `num_labels`). */
  readonly configFields?: Readonly<Record<string, unknown>>;
}

/**
 * Writes an HF model folder that `transformers` loads: `config.json`, `model.safetensors` (float32, HF names and
 * shapes, `format: pt` metadata) and the tokenizer files. Everything goes into a temporary folder beside the target,
 * which is renamed into place only when complete, so a failure leaves the target as it was. Tensors are streamed
 * one by one from the given arrays: no second copy of the model is made.
 */
export async function savePretrained(folder: string, options: SavePretrainedOptions): Promise<void> {
  const all: [string, NamedTensors][] = [['encoder', options.tensors], ['head', options.headTensors ?? new Map()]];
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const [what, tensors] of all) {
    for (const [name, t] of tensors) {
      const size = t.shape.reduce((a, b) => a * b, 1);
      if (seen.has(name)) problems.push(`${name}: given twice (encoder and head tensors)`);
      if (t.data.length !== size) problems.push(`${name} (${what}): shape [${t.shape.join(', ')}] needs ${size} values, found ${t.data.length}`);
      seen.add(name);
    }
  }
  if (problems.length) throw new XltError(`Cannot save ${folder}:\n  - ${problems.join('\n  - ')}`);
  const target = resolve(folder);
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  await mkdir(tmp, { recursive: true });
  try {
    const config: Record<string, unknown> = { ...options.config.raw, ...(options.configFields ?? {}) };
    if (options.architecture) config['architectures'] = [options.architecture];
    await writeFile(join(tmp, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    const list = all.flatMap(([, tensors]) => [...tensors].map(([name, t]) => ({ name, dtype: 'F32' as const, shape: t.shape, data: () => t.data })));
    await writeSafetensors(join(tmp, SAFETENSORS_FILE), list, { format: 'pt' });
    for (const file of options.tokenizerFiles ?? []) await copyFile(file, join(tmp, basename(file)));
    await replaceFolder(tmp, target);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw withPath(error, target);
  }
}

/** Renames `from` onto `to`; an existing `to` is moved aside first and removed after. */
async function replaceFolder(from: string, to: string): Promise<void> {
  const exists = await stat(to).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await rename(from, to);
    return;
  }
  const old = `${from}.old`;
  await rename(to, old);
  try {
    await rename(from, to);
  } catch (error) {
    await rename(old, to);
    throw error;
  }
  await rm(old, { recursive: true, force: true });
}
