import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
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
import { hubCacheDir, modelCacheFolder, resolveModel } from './resolve-model.js';

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

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
/** The commit the test hub serves a repository at. */
const commitOf = (id: string) => createHash('sha1').update(id).digest('hex');
/** The snapshot folder of a repository at its commit in a hub cache. */
const snapshotOf = (cacheDir: string, id: string) => join(modelCacheFolder(id, { cacheDir }), 'snapshots', commitOf(id));

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
    // The hub's answers as huggingface_hub reads them: the commit in X-Repo-Commit, small files with their ETag,
    // large ones (weights) as a redirect to a file store with X-Linked-Etag (the sha256 of the bytes).
    const cdn = /^\/cdn\/([^/]+\/[^/]+)\/([^/]+)$/.exec(req.url ?? '');
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/([^/]+)$/.exec(req.url ?? '');
    try {
      if (cdn) {
        const body = await readFile(join(root, 'serve', cdn[1]!, cdn[2]!));
        res.writeHead(200, { 'content-length': body.length });
        res.end(body);
        return;
      }
      if (!m || (m[2] !== 'main' && m[2] !== commitOf(m[1]!))) throw new Error('bad path');
      const body = await readFile(join(root, 'serve', m[1]!, m[3]!));
      if (/\.(safetensors|bin)$/.test(m[3]!)) {
        res.writeHead(302, { location: `/cdn/${m[1]}/${m[3]}`, 'x-repo-commit': commitOf(m[1]!), 'x-linked-etag': `"${sha256(body)}"` });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-length': body.length, 'x-repo-commit': commitOf(m[1]!), etag: `"${createHash('sha1').update(body).digest('hex')}"` });
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

  it('downloads an id into the Hugging Face cache layout with progress, then serves it from there without requests, also offline', async () => {
    const cacheDir = join(root, 'cache');
    const lines: string[] = [];
    const folder = await resolveModel('org/tiny', { cacheDir, endpoint, progress: (l) => lines.push(l) });
    const repo = join(cacheDir, 'models--org--tiny');
    expect(folder).toBe(join(repo, 'snapshots', commitOf('org/tiny')));
    expect(modelCacheFolder('org/tiny', { cacheDir })).toBe(repo);
    expect((await readdir(folder)).sort()).toEqual(['config.json', 'model.safetensors', 'vocab.txt']);
    expect((await readFile(join(repo, 'refs', 'main'), 'utf8')).trim()).toBe(commitOf('org/tiny'));
    // Snapshot files are relative symlinks into blobs/, named by the hub's etag (sha256 for the large files).
    const weights = await readFile(join(root, 'serve', 'org', 'tiny', 'model.safetensors'));
    expect((await lstat(join(folder, 'model.safetensors'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(folder, 'model.safetensors'))).toBe(join('..', '..', 'blobs', sha256(weights)));
    expect(await readFile(join(repo, 'blobs', sha256(weights)))).toEqual(weights);
    // Tokenizer files the hub does not have are remembered as absent, as huggingface_hub does.
    expect((await readdir(join(repo, '.no_exist', commitOf('org/tiny')))).sort()).toEqual(['added_tokens.json', 'merges.txt', 'sentencepiece.bpe.model', 'special_tokens_map.json', 'spiece.model', 'tokenizer.json', 'tokenizer_config.json', 'vocab.json']);
    expect(lines).toContain('downloaded org/tiny/model.safetensors (' + `${(weights.length / 1e3).toFixed(1)} kB)`);
    const count = requests.length;
    const loaded = await loadPretrained('org/tiny', { providers: [bertProvider], hub: { cacheDir, endpoint: 'http://127.0.0.1:9' } });
    expect(loaded.encoder.get('bert.encoder.layer.0.output.dense.weight')!.data).toEqual(tensors.get('bert.encoder.layer.0.output.dense.weight')!.data);
    expect(await resolveModel('org/tiny', { cacheDir, offline: true })).toBe(folder);
    expect(await resolveModel('org/tiny', { cacheDir, endpoint })).toBe(folder);
    expect(requests.length).toBe(count);
    // Asking for the commit itself finds the same snapshot.
    expect(await resolveModel('org/tiny', { cacheDir, offline: true, revision: commitOf('org/tiny') })).toBe(folder);
  });

  it('uses a model transformers already put into the cache (HF_HUB_CACHE, HF_HOME) without any request', async () => {
    const hfHome = join(root, 'hf-home');
    const cacheDir = join(hfHome, 'hub');
    const commit = 'b'.repeat(40);
    const repo = join(cacheDir, 'models--someone--prebuilt');
    const source = join(root, 'serve', 'org', 'tiny');
    await mkdir(join(repo, 'refs'), { recursive: true });
    await writeFile(join(repo, 'refs', 'main'), commit);
    await mkdir(join(repo, 'blobs'), { recursive: true });
    await mkdir(join(repo, 'snapshots', commit), { recursive: true });
    for (const file of ['config.json', 'model.safetensors', 'vocab.txt']) {
      const bytes = await readFile(join(source, file));
      await writeFile(join(repo, 'blobs', sha256(bytes)), bytes);
      await symlink(join('..', '..', 'blobs', sha256(bytes)), join(repo, 'snapshots', commit, file));
    }
    const before = { HF_HUB_CACHE: process.env['HF_HUB_CACHE'], HF_HOME: process.env['HF_HOME'] };
    const count = requests.length;
    try {
      delete process.env['HF_HUB_CACHE'];
      process.env['HF_HOME'] = hfHome;
      expect(hubCacheDir()).toBe(cacheDir);
      expect(await resolveModel('someone/prebuilt', { endpoint })).toBe(join(repo, 'snapshots', commit));
      process.env['HF_HUB_CACHE'] = cacheDir;
      process.env['HF_HOME'] = join(root, 'elsewhere');
      const loaded = await loadPretrained('someone/prebuilt', { providers: [bertProvider], hub: { endpoint: 'http://127.0.0.1:9' } });
      expect(loaded.encoder.get('bert.embeddings.word_embeddings.weight')!.data).toEqual(tensors.get('bert.embeddings.word_embeddings.weight')!.data);
    } finally {
      for (const [k, v] of Object.entries(before)) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    expect(requests.length).toBe(count);
  });

  it('finds the cache where huggingface_hub does: HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME/hub, XDG_CACHE_HOME, ~/.cache', () => {
    expect(hubCacheDir({ HF_HUB_CACHE: '/a', HF_HOME: '/b' })).toBe('/a');
    expect(hubCacheDir({ HUGGINGFACE_HUB_CACHE: '/c', HF_HOME: '/b' })).toBe('/c');
    expect(hubCacheDir({ HF_HOME: '/b', XDG_CACHE_HOME: '/x' })).toBe('/b/hub');
    expect(hubCacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/huggingface/hub');
    expect(hubCacheDir({})).toMatch(/\.cache\/huggingface\/hub$/);
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
    expect((await readdir(folder)).sort()).toEqual(['config.json', 'pytorch_model.bin']);
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
    expect((await readdir(folder)).sort()).toEqual([
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
    await expect(resolveModel('org/no-weights', { cacheDir, offline: true })).rejects.toThrow(
      `Model "org/no-weights" is not in the Hugging Face cache: its snapshot ${snapshotOf(cacheDir, 'org/no-weights')} lacks weights (one of ${WEIGHT_FILES.join(', ')})`,
    );
  });

  it('refuses a .bin index whose shards lie outside its folder, naming the file and path', async () => {
    const cacheDir = join(root, 'cache-bad');
    const from = requests.length;
    await expect(resolveModel('org/bad-index', { cacheDir, endpoint, progress: () => {} })).rejects.toThrow(
      /pytorch_model\.bin\.index\.json.*weight_map.*expected shard file names in the same folder, found "\.\.\/outside\.bin"/,
    );
    expect(weightRequests('org/bad-index', from)).toEqual(WEIGHT_FILES);
  });

  it('fails clearly offline when the model is not cached, naming the cache folder, and for unknown ids', async () => {
    const cacheDir = join(root, 'cache2');
    const count = requests.length;
    await expect(resolveModel('org/absent', { cacheDir, endpoint, offline: true })).rejects.toThrow(
      `Model "org/absent" is not in the Hugging Face cache: no snapshot of revision "main" in ${join(cacheDir, 'models--org--absent')} (no such folder). Downloads are off (offline mode, --offline).`,
    );
    const before = process.env['HF_HUB_OFFLINE'];
    process.env['HF_HUB_OFFLINE'] = '1';
    try {
      await expect(resolveModel('org/absent', { cacheDir, endpoint })).rejects.toThrow('Downloads are off (HF_HUB_OFFLINE=1)');
    } finally {
      if (before === undefined) delete process.env['HF_HUB_OFFLINE'];
      else process.env['HF_HUB_OFFLINE'] = before;
    }
    expect(requests.length).toBe(count);
    await expect(resolveModel('org/absent', { cacheDir, endpoint, progress: () => {} })).rejects.toThrow(`Model "org/absent" was not found at ${endpoint}`);
    await expect(resolveModel('./no/such/folder/x', { cacheDir })).rejects.toThrow('expected an HF model folder or a hub id such as "org/name", found no such folder, and not a hub id');
  });
});
