import { createServer, type Server } from 'node:http';
import { readFile, readdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bertProvider } from '../encoders/bert-provider.js';
import { initEncoderParameters } from '../model/init-parameters.js';
import { loadPretrained } from '../model/load-pretrained.js';
import { savePretrained } from '../model/save-pretrained.js';
import { encodeFloats, writeShardedSafetensors } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { stateDictPickle, torchZip } from '../torch-bin/torch-fixtures.testing.js';
import { modelCacheFolder, resolveModel } from './resolve-model.js';

const raw = { model_type: 'bert', vocab_size: 20, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, max_position_embeddings: 10 };
const config = bertProvider.parseConfig(raw, 'config.json');
const tensors = initEncoderParameters(config, bertProvider, 1);

const WEIGHT_FILES = ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin', 'pytorch_model.bin.index.json'];

/** A `torch.save` state dict of the given tensors (contiguous F32), as `pytorch_model.bin` holds it. */
function torchBin(names: readonly string[]): Uint8Array {
  const entries = names.map((name, i) => {
    const t = tensors.get(name)!;
    const stride = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    return { name, key: String(i), type: 'FloatStorage', numel: t.data.length, offset: 0, shape: t.shape, stride };
  });
  return torchZip(stateDictPickle(entries), new Map(names.map((name, i) => [String(i), encodeFloats(Array.from(tensors.get(name)!.data), 'F32')])));
}

/** The weight-file requests made for `id` since request `from`, in order. */
function weightRequests(id: string, from: number): string[] {
  return requests.slice(from).filter((u) => u.startsWith(`/${id}/`) && /(\.safetensors|\.bin|\.index\.json)$/.test(u)).map((u) => u.slice(u.lastIndexOf('/') + 1));
}

let root: string;
let cleanup: () => Promise<void>;
let server: Server;
let endpoint: string;
const requests: string[] = [];

/** A local stand-in for the hub: `/<org>/<name>/resolve/main/<file>` served from `root/<org>/<name>/`. */
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('xlt-hub-'));
  const vocab = join(root, 'vocab.txt');
  await import('node:fs/promises').then((fs) => fs.writeFile(vocab, '[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n'));
  await savePretrained(join(root, 'serve', 'org', 'tiny'), { config, tensors, tokenizerFiles: [vocab] });
  const sharded = join(root, 'serve', 'org', 'sharded');
  await savePretrained(sharded, { config, tensors: new Map() });
  await import('node:fs/promises').then((fs) => fs.rm(join(sharded, 'model.safetensors')));
  await writeShardedSafetensors(
    sharded,
    [...tensors].map(([name, t]) => ({ name, dtype: 'F32' as const, shape: t.shape, data: t.data })),
    { maxShardBytes: 1000 },
  );
  const fs = await import('node:fs/promises');
  const names = [...tensors.keys()];
  const torch = join(root, 'serve', 'org', 'torch');
  await savePretrained(torch, { config, tensors: new Map() });
  await fs.rm(join(torch, 'model.safetensors'));
  await fs.writeFile(join(torch, 'pytorch_model.bin'), torchBin(names));
  const torchSharded = join(root, 'serve', 'org', 'torch-sharded');
  await savePretrained(torchSharded, { config, tensors: new Map() });
  await fs.rm(join(torchSharded, 'model.safetensors'));
  const half = Math.ceil(names.length / 2);
  const shardNames = ['pytorch_model-00001-of-00002.bin', 'pytorch_model-00002-of-00002.bin'];
  await fs.writeFile(join(torchSharded, shardNames[0]!), torchBin(names.slice(0, half)));
  await fs.writeFile(join(torchSharded, shardNames[1]!), torchBin(names.slice(half)));
  const weightMap = Object.fromEntries(names.map((n, i) => [n, shardNames[i < half ? 0 : 1]!]));
  await fs.writeFile(join(torchSharded, 'pytorch_model.bin.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  const noWeights = join(root, 'serve', 'org', 'no-weights');
  await savePretrained(noWeights, { config, tensors: new Map() });
  await fs.rm(join(noWeights, 'model.safetensors'));
  await fs.writeFile(join(noWeights, 'tf_model.h5'), 'not read');
  const badIndex = join(root, 'serve', 'org', 'bad-index');
  await savePretrained(badIndex, { config, tensors: new Map() });
  await fs.rm(join(badIndex, 'model.safetensors'));
  await fs.writeFile(join(badIndex, 'pytorch_model.bin.index.json'), JSON.stringify({ weight_map: { a: '../outside.bin' } }));
  server = createServer(async (req, res) => {
    requests.push(req.url ?? '');
    const m = /^\/([^/]+\/[^/]+)\/resolve\/main\/([^/]+)$/.exec(req.url ?? '');
    try {
      if (!m) throw new Error('bad path');
      const body = await readFile(join(root, 'serve', m[1]!, m[2]!));
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await cleanup();
});

describe('resolveModel', () => {
  it('uses a folder as is', async () => {
    expect(await resolveModel(join(root, 'serve', 'org', 'tiny'))).toBe(join(root, 'serve', 'org', 'tiny'));
  });

  it('downloads an id into the cache with progress, then serves it from the cache without requests, also offline', async () => {
    const cacheDir = join(root, 'cache');
    const lines: string[] = [];
    const folder = await resolveModel('org/tiny', { cacheDir, endpoint, progress: (l) => lines.push(l) });
    expect(folder).toBe(modelCacheFolder('org/tiny', { cacheDir }));
    expect((await readdir(folder)).filter((n) => !n.startsWith('.')).sort()).toEqual(['config.json', 'model.safetensors', 'vocab.txt']);
    expect(lines).toContain('downloaded org/tiny/model.safetensors (' + `${((await readFile(join(folder, 'model.safetensors'))).length / 1e3).toFixed(1)} kB)`);
    const loaded = await loadPretrained('org/tiny', { providers: [bertProvider], hub: { cacheDir, endpoint: 'http://127.0.0.1:9' } });
    expect(loaded.encoder.get('bert.encoder.layer.0.output.dense.weight')!.data).toEqual(tensors.get('bert.encoder.layer.0.output.dense.weight')!.data);
    const count = requests.length;
    expect(await resolveModel('org/tiny', { cacheDir, offline: true })).toBe(folder);
    expect(requests.length).toBe(count);
  });

  it('downloads a sharded checkpoint: the index and every shard', async () => {
    const cacheDir = join(root, 'cache');
    const folder = await resolveModel('org/sharded', { cacheDir, endpoint, progress: () => {} });
    const files = (await readdir(folder)).filter((n) => n.endsWith('.safetensors'));
    expect(files.length).toBeGreaterThan(1);
    const loaded = await loadPretrained(folder, { providers: [bertProvider] });
    expect(loaded.encoder.get('bert.embeddings.word_embeddings.weight')!.data).toEqual(tensors.get('bert.embeddings.word_embeddings.weight')!.data);
  });

  it('falls back to pytorch_model.bin after both safetensors names, as from_pretrained does', async () => {
    const cacheDir = join(root, 'cache');
    const from = requests.length;
    const folder = await resolveModel('org/torch', { cacheDir, endpoint, progress: () => {} });
    expect(weightRequests('org/torch', from)).toEqual(['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin']);
    expect((await readdir(folder)).filter((n) => !n.startsWith('.')).sort()).toEqual(['config.json', 'pytorch_model.bin']);
    expect(await readFile(join(folder, 'pytorch_model.bin'))).toEqual(await readFile(join(root, 'serve', 'org', 'torch', 'pytorch_model.bin')));
    const loaded = await loadPretrained('org/torch', { providers: [bertProvider], hub: { cacheDir, offline: true } });
    expect(loaded.encoder.get('bert.encoder.layer.0.output.dense.weight')!.data).toEqual(tensors.get('bert.encoder.layer.0.output.dense.weight')!.data);
  });

  it('downloads a sharded pytorch_model.bin index and every shard when nothing else exists', async () => {
    const cacheDir = join(root, 'cache');
    const from = requests.length;
    const folder = await resolveModel('org/torch-sharded', { cacheDir, endpoint, progress: () => {} });
    expect(weightRequests('org/torch-sharded', from)).toEqual([
      ...WEIGHT_FILES,
      'pytorch_model-00001-of-00002.bin',
      'pytorch_model-00002-of-00002.bin',
    ]);
    expect((await readdir(folder)).filter((n) => !n.startsWith('.')).sort()).toEqual([
      'config.json',
      'pytorch_model-00001-of-00002.bin',
      'pytorch_model-00002-of-00002.bin',
      'pytorch_model.bin.index.json',
    ]);
    const loaded = await loadPretrained(folder, { providers: [bertProvider] });
    expect(loaded.encoder.get('bert.embeddings.word_embeddings.weight')!.data).toEqual(tensors.get('bert.embeddings.word_embeddings.weight')!.data);
  });

  it('fails listing all four weight names when the model has none, and caches nothing as complete', async () => {
    const cacheDir = join(root, 'cache-none');
    const from = requests.length;
    const error = await resolveModel('org/no-weights', { cacheDir, endpoint, progress: () => {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(`Model "org/no-weights" at ${endpoint} has no weights xlt reads: none of ${WEIGHT_FILES.join(', ')} exists`);
    expect(weightRequests('org/no-weights', from)).toEqual(WEIGHT_FILES);
    await expect(resolveModel('org/no-weights', { cacheDir, offline: true })).rejects.toThrow('is not in the cache');
  });

  it('refuses a .bin index whose shards lie outside its folder, naming the file and path', async () => {
    const cacheDir = join(root, 'cache-bad');
    const from = requests.length;
    await expect(resolveModel('org/bad-index', { cacheDir, endpoint, progress: () => {} })).rejects.toThrow(
      /pytorch_model\.bin\.index\.json.*weight_map.*expected shard file names in the same folder, found "\.\.\/outside\.bin"/,
    );
    expect(weightRequests('org/bad-index', from)).toEqual(WEIGHT_FILES);
  });

  it('fails clearly offline when the model is not cached, and for unknown ids', async () => {
    const cacheDir = join(root, 'cache2');
    await expect(resolveModel('org/absent', { cacheDir, offline: true })).rejects.toThrow(/Model "org\/absent" is not in the cache .* downloads are off \(offline mode\)/);
    const before = process.env['HF_HUB_OFFLINE'];
    process.env['HF_HUB_OFFLINE'] = '1';
    try {
      await expect(resolveModel('org/absent', { cacheDir, endpoint })).rejects.toThrow('HF_HUB_OFFLINE=1');
    } finally {
      if (before === undefined) delete process.env['HF_HUB_OFFLINE'];
      else process.env['HF_HUB_OFFLINE'] = before;
    }
    await expect(resolveModel('org/absent', { cacheDir, endpoint, progress: () => {} })).rejects.toThrow(`Model "org/absent" was not found at ${endpoint}`);
    await expect(resolveModel('./no/such/folder/x', { cacheDir })).rejects.toThrow('expected an HF model folder or a hub id such as "org/name", found no such folder, and not a hub id');
  });
});
