import { createServer, type Server } from 'node:http';
import { readFile, readdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bertProvider } from '../encoders/bert-provider.js';
import { initEncoderParameters } from '../model/init-parameters.js';
import { loadPretrained } from '../model/load-pretrained.js';
import { savePretrained } from '../model/save-pretrained.js';
import { writeShardedSafetensors } from '../safetensors/sharded-writer.js';
import { tempDir } from '../testing/fixtures.js';
import { modelCacheFolder, resolveModel } from './resolve-model.js';

const raw = { model_type: 'bert', vocab_size: 20, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, max_position_embeddings: 10 };
const config = bertProvider.parseConfig(raw, 'config.json');
const tensors = initEncoderParameters(config, bertProvider, 1);

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
