import { execFile, spawnSync } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tfjsCpuBackend } from '../backends/tfjs-backends.js';
import { bertProvider } from '../encoders/bert-provider.js';
import { xlmRobertaProvider } from '../encoders/xlm-roberta-provider.js';
import { InputError, openCheckpoint, type SafetensorsCheckpoint } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { openTorchCheckpoint } from '../torch-bin/torch-checkpoint.js';
import { loadPretrained, modernTensorName } from './load-pretrained.js';
import type { PretrainedModel } from './pretrained-model.js';
import { maxAbs, maxAbsDiff, referenceBatch } from './torch-reference.testing.js';

/**
 * Issue #14: the checkpoint folders users have load as transformers' from_pretrained loads them, and give PyTorch's
 * hidden states. `test-python/hf_reference.py` writes each variant (real pretraining-head names with the decoder
 * tied, untied or not saved; TF-converted LayerNorm gamma/beta; BertModel layout without prefix; pytorch_model.bin
 * by torch.save in the zip, legacy and sharded formats, in every float dtype and as strided views) with a float64
 * PyTorch reference. Needs /usr/bin/python3 with torch and numpy (Debian python3-torch) and fails, never skips,
 * without them.
 */
const PYTHON = '/usr/bin/python3';
const SCRIPT = resolve(import.meta.dirname, '../../test-python/hf_reference.py');
const providers = [bertProvider, xlmRobertaProvider];
const run = promisify(execFile);

interface Case {
  readonly label: string;
  readonly args: string[];
  dir?: string;
  model?: PretrainedModel;
  reference?: SafetensorsCheckpoint;
  savedKeys?: string[];
}
const cases: Case[] = [
  { label: 'BERT with TF LayerNorm names (gamma/beta), prefixed, safetensors', args: ['--model-type', 'bert', '--gamma-beta', '--seed', '11'] },
  {
    label: 'BERT with gamma/beta and no prefix, legacy torch.save, float16',
    args: ['--model-type', 'bert', '--no-prefix', '--gamma-beta', '--weights-format', 'bin-legacy', '--storage-dtype', 'float16', '--seed', '12'],
  },
  { label: 'XLM-R saved as the base model (no prefix)', args: ['--model-type', 'xlm-roberta', '--no-prefix', '--seed', '13'] },
  {
    label: 'BERT with pretraining heads, decoder tied, position_ids, pytorch_model.bin',
    args: ['--model-type', 'bert', '--mlm-head', 'tied', '--with-position-ids', '--weights-format', 'bin', '--seed', '14'],
  },
  { label: 'BERT with pretraining heads and gamma/beta, tied decoder not saved, safetensors', args: ['--model-type', 'bert', '--mlm-head', 'no-decoder', '--gamma-beta', '--seed', '15'] },
  {
    label: 'XLM-R with an MLM head, decoder untied, pytorch_model.bin, float64',
    args: ['--model-type', 'xlm-roberta', '--mlm-head', 'untied', '--weights-format', 'bin', '--storage-dtype', 'float64', '--seed', '16'],
  },
  {
    label: 'XLM-R with a tied MLM head, sharded pytorch_model.bin, bfloat16, strided views',
    args: ['--model-type', 'xlm-roberta', '--mlm-head', 'tied', '--with-position-ids', '--weights-format', 'bin-sharded', '--storage-dtype', 'bfloat16', '--noncontiguous', '--seed', '17'],
  },
];

let tmpDir = '';
let cleanup: () => Promise<void> = async () => {};

beforeAll(async () => {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `The checkpoint-variant tests need ${PYTHON} with torch and numpy (Debian: apt-get install python3-torch; .ci/run installs it).\n` +
        `${PYTHON} -c 'import torch, numpy' said: ${(probe.stderr || probe.error?.message || '').trim()}`,
    );
  }
  const tmp = await tempDir('xlt-variants-');
  tmpDir = tmp.dir;
  cleanup = tmp.cleanup;
  await Promise.all(
    cases.map(async (c, i) => {
      c.dir = join(tmp.dir, String(i));
      try {
        await run(PYTHON, [SCRIPT, ...c.args, '--out', c.dir], { env: { ...process.env, OMP_NUM_THREADS: '1' } });
      } catch (error) {
        throw new Error(`${SCRIPT} ${c.args.join(' ')} failed:\n${(error as { stderr?: string }).stderr ?? error}`);
      }
      c.model = await loadPretrained(join(c.dir, 'model'), { providers });
      c.reference = await openCheckpoint(join(c.dir, 'reference.safetensors'));
      c.savedKeys = JSON.parse(await readFile(join(c.dir, 'saved_keys.json'), 'utf8')) as string[];
    }),
  );
}, 120_000);

afterAll(async () => {
  for (const c of cases) await c.reference?.close();
  await cleanup();
});

const batchOf = referenceBatch;

async function hiddenOf(model: PretrainedModel, ref: SafetensorsCheckpoint): Promise<Float32Array> {
  const weights = new Map([...model.encoder].map(([n, t]) => [n, { shape: t.shape, data: t.data.slice() }]));
  const runtime = await tfjsCpuBackend.createEncoder(model.config, model.provider, weights);
  try {
    return await runtime.forward(await batchOf(model, ref), { training: false });
  } finally {
    runtime.dispose();
  }
}

describe.each(cases)('checkpoint variant: $label', (c) => {
  it('loads every encoder tensor and the pooler, ignoring exactly the pretraining heads and buffers', () => {
    const m = c.model!;
    expect(m.encoder.size).toBe(m.provider.parameterShapes(m.config).size);
    expect(m.pooler.size).toBe(2);
    const expectedIgnored = c.savedKeys!.filter((k) => /^(cls|lm_head)\./.test(k) || k.endsWith('embeddings.position_ids'));
    expect([...m.ignored].sort()).toEqual(expectedIgnored.sort());
    expect(m.head.size).toBe(0);
  });

  it('matches PyTorch last_hidden_state within 1e-4 on tfjs-cpu', async () => {
    const expected = await c.reference!.readFloat32('last_hidden_state');
    expect(maxAbs(expected)).toBeGreaterThan(0.5);
    expect(maxAbsDiff(await hiddenOf(c.model!, c.reference!), expected)).toBeLessThan(1e-4);
  });
});

describe('pytorch_model.bin specifics', () => {
  it('serves a tied decoder from the word embeddings\' storage, and an untied one from its own', async () => {
    const tied = await openTorchCheckpoint(join(cases[3]!.dir!, 'model', 'pytorch_model.bin'));
    const untied = await openTorchCheckpoint(join(cases[5]!.dir!, 'model', 'pytorch_model.bin'));
    try {
      const tiedDecoder = await tied.readFloat32('cls.predictions.decoder.weight');
      expect(maxAbsDiff(tiedDecoder, await tied.readFloat32('bert.embeddings.word_embeddings.weight'))).toBe(0);
      expect(maxAbs(tiedDecoder)).toBeGreaterThan(0);
      expect(maxAbsDiff(await untied.readFloat32('lm_head.decoder.weight'), await untied.readFloat32('roberta.embeddings.word_embeddings.weight'))).toBeGreaterThan(0.1);
      expect(tied.tensors.get('bert.embeddings.position_ids')?.dtype).toBe('I64');
      const positions = await tied.readBytes('bert.embeddings.position_ids');
      const asInts = new BigInt64Array(positions.buffer, positions.byteOffset, positions.byteLength / 8);
      expect(Array.from(asInts, Number)).toEqual(Array.from({ length: asInts.length }, (_, i) => i));
    } finally {
      await tied.close();
      await untied.close();
    }
  });

  it('prefers model.safetensors when a folder also has pytorch_model.bin, as from_pretrained does', async () => {
    // Case 0 (safetensors, seed 11) and case 3 (.bin, seed 14) are BERT models of the same shapes.
    const folder = join(tmpDir, 'both');
    await mkdir(folder);
    for (const f of ['config.json', 'model.safetensors']) await copyFile(join(cases[0]!.dir!, 'model', f), join(folder, f));
    await copyFile(join(cases[3]!.dir!, 'model', 'pytorch_model.bin'), join(folder, 'pytorch_model.bin'));
    const both = await loadPretrained(folder, { providers });
    const name = 'bert.embeddings.word_embeddings.weight';
    expect(maxAbsDiff(both.encoder.get(name)!.data, cases[0]!.model!.encoder.get(name)!.data)).toBe(0);
    expect(maxAbsDiff(both.encoder.get(name)!.data, cases[3]!.model!.encoder.get(name)!.data)).toBeGreaterThan(0.1);
  });

  it('names the folder and the files it looked for when there are no weights', async () => {
    const folder = join(tmpDir, 'no-weights');
    await mkdir(folder);
    await copyFile(join(cases[0]!.dir!, 'model', 'config.json'), join(folder, 'config.json'));
    await writeFile(join(folder, 'tf_model.h5'), 'not read');
    const error = await loadPretrained(folder, { providers }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    const message = (error as Error).message;
    for (const part of [folder, 'model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin', 'pytorch_model.bin.index.json', 'only tf_model.h5']) expect(message).toContain(part);
  });
});

describe('modernTensorName (transformers\' _fix_state_dict_key_on_load)', () => {
  it('renames LayerNorm gamma/beta with or without a prefix, and nothing else', () => {
    expect(modernTensorName('bert.encoder.layer.3.output.LayerNorm.gamma')).toBe('bert.encoder.layer.3.output.LayerNorm.weight');
    expect(modernTensorName('embeddings.LayerNorm.beta')).toBe('embeddings.LayerNorm.bias');
    for (const kept of ['embeddings.LayerNorm.weight', 'classifier.gamma', 'encoder.layer.0.beta_proj.weight', 'lm_head.layer_norm.beta']) expect(modernTensorName(kept)).toBe(kept);
  });
});
