import { existsSync } from 'node:fs';
import { readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bertProvider } from '../encoders/bert-provider.js';
import { xlmRobertaProvider } from '../encoders/xlm-roberta-provider.js';
import { InputError, type NamedTensors, writeSafetensors } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { initEncoderParameters } from './init-parameters.js';
import { loadPretrained } from './load-pretrained.js';
import { savePretrained } from './save-pretrained.js';

const providers = [bertProvider, xlmRobertaProvider];
const rawConfig = {
  architectures: ['BertForMaskedLM'],
  model_type: 'bert',
  vocab_size: 30,
  hidden_size: 8,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 16,
  max_position_embeddings: 12,
  type_vocab_size: 2,
  id2label: { 0: 'O' },
  some_unknown_field: [1, 2, 3],
};
const config = bertProvider.parseConfig(rawConfig, 'config.json');

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('xlt-pretrained-')));
afterEach(() => cleanup());

function head(): NamedTensors {
  return new Map([
    ['classifier.weight', { shape: [3, 8], data: Float32Array.from({ length: 24 }, (_, i) => i / 7) }],
    ['classifier.bias', { shape: [3], data: new Float32Array([0.5, -1, 2]) }],
  ]);
}

async function saveTiny(folder: string, tensors = initEncoderParameters(config, bertProvider, 5, { pooler: true })) {
  const tok = join(dir, 'vocab.txt');
  await writeFile(tok, '[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n');
  await savePretrained(folder, { config, tensors, headTensors: head(), tokenizerFiles: [tok], architecture: 'BertForTokenClassification' });
  return tensors;
}

function expectBitIdentical(a: NamedTensors, b: NamedTensors) {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [name, t] of a) {
    expect(b.get(name)!.shape, name).toEqual(t.shape);
    expect(Buffer.from(b.get(name)!.data.buffer, b.get(name)!.data.byteOffset, b.get(name)!.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)), name).toBe(true);
  }
}

describe('savePretrained / loadPretrained', () => {
  it('round-trips bit-identically, keeping config fields, the pooler, head tensors and tokenizer files', async () => {
    const folder = join(dir, 'out');
    const tensors = await saveTiny(folder);
    expect((await readdir(folder)).sort()).toEqual(['config.json', 'model.safetensors', 'vocab.txt']);
    const written = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8'));
    expect(written.architectures).toEqual(['BertForTokenClassification']);
    expect(written.some_unknown_field).toEqual([1, 2, 3]);
    const loaded = await loadPretrained(folder, { providers });
    expect(loaded.provider).toBe(bertProvider);
    expectBitIdentical(new Map([...loaded.encoder, ...loaded.pooler]), tensors);
    expectBitIdentical(loaded.head, head());
    expect(loaded.ignored).toEqual([]);
    expect(loaded.tokenizerFiles).toEqual([join(folder, 'vocab.txt')]);
    // Saving again over the folder replaces it, and the second load equals the first.
    await savePretrained(folder, { config: loaded.config, tensors: new Map([...loaded.encoder, ...loaded.pooler]), headTensors: loaded.head, tokenizerFiles: loaded.tokenizerFiles });
    expectBitIdentical((await loadPretrained(folder, { providers })).encoder, loaded.encoder);
  });

  it('initialises like HF: LayerNorm 1/0, biases 0, weights normal(0, initializer_range), pad row 0, seeded', () => {
    const t = initEncoderParameters(config, bertProvider, 1);
    expect(Array.from(t.get('bert.encoder.layer.0.output.LayerNorm.weight')!.data)).toEqual(new Array(8).fill(1));
    expect(Array.from(t.get('bert.encoder.layer.1.intermediate.dense.bias')!.data)).toEqual(new Array(16).fill(0));
    const w = t.get('bert.embeddings.word_embeddings.weight')!.data;
    expect(Array.from(w.subarray(0, 8))).toEqual(new Array(8).fill(0));
    const values = Array.from(w.subarray(8));
    const sd = Math.sqrt(values.reduce((s, x) => s + x * x, 0) / values.length);
    expect(sd).toBeGreaterThan(0.015);
    expect(sd).toBeLessThan(0.025);
    expect(initEncoderParameters(config, bertProvider, 1).get('bert.embeddings.word_embeddings.weight')!.data).toEqual(w);
    expect(initEncoderParameters(config, bertProvider, 2).get('bert.embeddings.word_embeddings.weight')!.data).not.toEqual(w);
  });

  it('reports a truncated safetensors file clearly', async () => {
    const folder = join(dir, 'm');
    await saveTiny(folder);
    const file = join(folder, 'model.safetensors');
    await truncate(file, (await stat(file)).size - 100);
    await expect(loadPretrained(folder, { providers })).rejects.toThrow(InputError);
    await expect(loadPretrained(folder, { providers })).rejects.toThrow(/model\.safetensors/);
  });

  it('reports a header length beyond the end of the file', async () => {
    const folder = join(dir, 'm');
    await saveTiny(folder);
    const file = join(folder, 'model.safetensors');
    const bytes = await readFile(file);
    bytes.writeBigUInt64LE(BigInt(bytes.length * 2), 0);
    await writeFile(file, bytes);
    await expect(loadPretrained(folder, { providers })).rejects.toThrow(/model\.safetensors.*header length of at most/s);
  });

  it('names a tensor of the wrong shape, the expected and found shapes, and the file', async () => {
    const folder = join(dir, 'm');
    const tensors = initEncoderParameters(config, bertProvider, 5);
    tensors.set('bert.encoder.layer.1.intermediate.dense.weight', { shape: [16, 4], data: new Float32Array(64) });
    await savePretrained(folder, { config, tensors });
    await expect(loadPretrained(folder, { providers })).rejects.toThrow(
      `${join(folder, 'model.safetensors')} at bert.encoder.layer.1.intermediate.dense.weight: expected shape [16, 8] (from config.json), found shape [16, 4]`,
    );
  });

  it('refuses weights that are not finite, naming each tensor, how many values and the first', async () => {
    const folder = join(dir, 'm');
    const tensors = initEncoderParameters(config, bertProvider, 5);
    tensors.get('bert.encoder.layer.0.output.dense.weight')!.data[7] = Number.NaN;
    const head = tensors.get('bert.embeddings.word_embeddings.weight')!.data;
    head[3] = Number.POSITIVE_INFINITY;
    head[4] = Number.NEGATIVE_INFINITY;
    await savePretrained(folder, { config, tensors });
    const error = (await loadPretrained(folder, { providers }).catch((e: unknown) => e)) as InputError;
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain('bert.encoder.layer.0.output.dense.weight: expected finite values, found 1 of 128 values not finite (first at index 7: NaN)');
    expect(error.message).toContain('bert.embeddings.word_embeddings.weight: expected finite values, found 2 of 240 values not finite (first at index 3: Infinity)');
  });

  it('names missing and unexpected tensors (a wrong name), all at once', async () => {
    const folder = join(dir, 'm');
    const tensors = initEncoderParameters(config, bertProvider, 5);
    const q = tensors.get('bert.encoder.layer.0.attention.self.query.weight')!;
    tensors.delete('bert.encoder.layer.0.attention.self.query.weight');
    tensors.set('bert.encoder.layer.0.attention.self.qeury.weight', q);
    await savePretrained(folder, { config, tensors });
    const error = (await loadPretrained(folder, { providers }).catch((e: unknown) => e)) as InputError;
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain('bert.encoder.layer.0.attention.self.qeury.weight: expected no such tensor');
    expect(error.message).toContain('bert.encoder.layer.0.attention.self.query.weight: expected a tensor of shape [8, 8]');
  });

  it('reports a missing config field with the config file and path', async () => {
    const folder = join(dir, 'm');
    await saveTiny(folder);
    const { hidden_size: _, ...rest } = rawConfig;
    await writeFile(join(folder, 'config.json'), JSON.stringify(rest));
    await expect(loadPretrained(folder, { providers })).rejects.toThrow(`${join(folder, 'config.json')} at hidden_size: expected a positive integer, found nothing`);
  });

  it('loads a base-model checkpoint without prefix, ignoring MLM heads and old position_ids buffers', async () => {
    const folder = join(dir, 'm');
    await saveTiny(folder);
    const tensors = initEncoderParameters(config, bertProvider, 9);
    const list = [...tensors].map(([name, t]) => ({ name: name.slice('bert.'.length), dtype: 'F32' as const, shape: t.shape, data: t.data }));
    list.push({ name: 'cls.predictions.bias', dtype: 'F32', shape: [30], data: new Float32Array(30) });
    list.push({ name: 'embeddings.position_ids', dtype: 'I64' as never, shape: [1, 12], data: new BigInt64Array(12) as never });
    await writeSafetensors(join(folder, 'model.safetensors'), list, { format: 'pt' });
    const loaded = await loadPretrained(folder, { providers });
    expectBitIdentical(loaded.encoder, tensors);
    expect([...loaded.ignored].sort()).toEqual(['cls.predictions.bias', 'embeddings.position_ids']);
    expect(loaded.pooler.size).toBe(0);
  });

  it('writes nothing when a tensor is bad, and leaves an existing folder as it was', async () => {
    const folder = join(dir, 'm');
    const bad = initEncoderParameters(config, bertProvider, 5);
    bad.set('bert.embeddings.LayerNorm.bias', { shape: [8], data: new Float32Array(7) });
    await expect(savePretrained(folder, { config, tensors: bad })).rejects.toThrow('bert.embeddings.LayerNorm.bias (encoder): shape [8] needs 8 values, found 7');
    expect(existsSync(folder)).toBe(false);
    await saveTiny(folder);
    const before = await readFile(join(folder, 'model.safetensors'));
    const throwing = new Map(initEncoderParameters(config, bertProvider, 5));
    await expect(
      savePretrained(folder, { config, tensors: throwing, tokenizerFiles: [join(dir, 'no-such-vocab.txt')] }),
    ).rejects.toThrow(/no-such-vocab/);
    expect((await readFile(join(folder, 'model.safetensors'))).equals(before)).toBe(true);
    expect((await readdir(dir)).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});
