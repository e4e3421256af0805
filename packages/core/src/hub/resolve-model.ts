import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { InputError, XltError, tempPathFor } from '@xlt/plugin-api';
import { TOKENIZER_FILE_NAMES } from '@xlt/plugin-api';
import { MODEL_WEIGHT_FILES } from '../torch-bin/model-weights.js';
import { COMMIT_HASH, HubRepoCache, hubCacheDir } from './hub-cache.js';

export { hubCacheDir } from './hub-cache.js';

/** Where {@link resolveModel} looks and downloads. */
export interface ResolveModelOptions {
  /** Hub cache root; default {@link hubCacheDir}: `HF_HUB_CACHE`, `$HF_HOME/hub` or `~/.cache/huggingface/hub`. */
  readonly cacheDir?: string;
  /** Use the cache only, never the network; default true when `HF_HUB_OFFLINE=1` (the CLI's `--offline` sets it). */
  readonly offline?: boolean;
  /** Hub base URL; default `HF_ENDPOINT` or `https://huggingface.co`. */
  readonly endpoint?: string;
  /** Branch, tag or commit; default `main`. */
  readonly revision?: string;
  /** Progress lines; default: written to stderr. */
  readonly progress?: (line: string) => void;
}

const HUB_ID = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;

/** The folder of a hub id in the hub cache (`models--org--name`), whose `snapshots/<commit>/` are model folders. */
export function modelCacheFolder(id: string, options: Pick<ResolveModelOptions, 'cacheDir'> = {}): string {
  return new HubRepoCache(options.cacheDir ?? hubCacheDir(), id).dir;
}

/** Whether an environment variable is set to a true value the way huggingface_hub reads it (`1`, `true`, `yes`, `on`). */
export function envFlag(value: string | undefined): boolean {
  return ['1', 'true', 'yes', 'on'].includes((value ?? '').trim().toLowerCase());
}

/**
 * What a cached snapshot lacks to be used as a model folder without asking the hub: `config.json`, the weights
 * (the first of {@link MODEL_WEIGHT_FILES} present, with every shard of an index), and the tokenizer (one of
 * `TOKENIZER_FILE_NAMES` present, or all of them known to be absent). Empty when it is complete.
 */
async function snapshotGaps(repo: HubRepoCache, commit: string): Promise<string[]> {
  const gaps: string[] = [];
  if (!repo.has(commit, 'config.json')) gaps.push('config.json');
  const weights = MODEL_WEIGHT_FILES.find((name) => repo.has(commit, name));
  if (!weights) gaps.push(`weights (one of ${MODEL_WEIGHT_FILES.join(', ')})`);
  else if (weights.endsWith('.index.json')) {
    for (const shard of await shardsOf(join(repo.snapshotDir(commit), weights))) if (!repo.has(commit, shard)) gaps.push(shard);
  }
  if (!TOKENIZER_FILE_NAMES.some((name) => repo.has(commit, name)) && !TOKENIZER_FILE_NAMES.every((name) => repo.knownMissing(commit, name))) {
    gaps.push(`a tokenizer file (one of ${TOKENIZER_FILE_NAMES.join(', ')})`);
  }
  return gaps;
}

/**
 * Turns a model argument into a local HF model folder. An existing folder is used as is. Otherwise the argument is
 * a hub id (`org/name`), looked up in the Hugging Face hub cache that transformers and huggingface_hub use
 * ({@link hubCacheDir}): a snapshot there with config, weights and tokenizer (downloaded by transformers or by xlt)
 * is used without any request. Otherwise `config.json`, the tokenizer files and the weights are downloaded from
 * `<endpoint>/<id>/resolve/<revision>/<file>` into that cache in its layout (`blobs/`, `snapshots/<commit>/` with
 * symlinks, `refs/<revision>`, `.no_exist/`), each file atomically, with progress on stderr. The weights are the
 * first that exists, in the order of transformers' `from_pretrained` ({@link MODEL_WEIGHT_FILES}):
 * `model.safetensors`, `model.safetensors.index.json`, `pytorch_model.bin`, `pytorch_model.bin.index.json`; a
 * sharded index comes with every shard it names. A model with none of them is an {@link XltError} listing all
 * four. Offline (`HF_HUB_OFFLINE=1`, `--offline`), the network is never touched and a model missing from the cache
 * is an error naming the cache folder and what is missing.
 */
export async function resolveModel(idOrFolder: string, options: ResolveModelOptions = {}): Promise<string> {
  if (await isDirectory(idOrFolder)) return resolve(idOrFolder);
  if (!HUB_ID.test(idOrFolder)) {
    throw new InputError([{ file: idOrFolder, expected: 'an HF model folder or a hub id such as "org/name"', found: 'no such folder, and not a hub id' }]);
  }
  const revision = options.revision ?? 'main';
  const repo = new HubRepoCache(options.cacheDir ?? hubCacheDir(), idOrFolder);
  const cached = await repo.commitOf(revision);
  const gaps = cached ? await snapshotGaps(repo, cached) : undefined;
  if (cached && gaps!.length === 0) return repo.snapshotDir(cached);
  const offline = options.offline ?? envFlag(process.env['HF_HUB_OFFLINE']);
  if (offline) {
    const where = cached
      ? `its snapshot ${repo.snapshotDir(cached)} lacks ${gaps!.join(', ')}`
      : `no snapshot of revision "${revision}" in ${repo.dir}${existsSync(repo.dir) ? '' : ' (no such folder)'}`;
    throw new XltError(
      `Model "${idOrFolder}" is not in the Hugging Face cache: ${where}. Downloads are off (${options.offline ? 'offline mode, --offline' : 'HF_HUB_OFFLINE=1'}). ` +
        'Run once with network access (or download it with transformers or `huggingface-cli download`), or pass a model folder.',
    );
  }
  const endpoint = (options.endpoint ?? process.env['HF_ENDPOINT'] ?? 'https://huggingface.co').replace(/\/+$/, '');
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const urlOf = (rev: string, file: string) => `${endpoint}/${idOrFolder}/resolve/${encodeURIComponent(rev)}/${file}`;

  // config.json first: its answer names the commit that every other file is then taken from.
  const first = await openFile(urlOf(revision, 'config.json'));
  if (!first) {
    throw new XltError(`Model "${idOrFolder}" was not found at ${endpoint} (no config.json at ${urlOf(revision, 'config.json')}). Check the id, or pass a model folder.`);
  }
  const commit = first.commit ?? (COMMIT_HASH.test(revision) ? revision : undefined);
  if (!commit) {
    await first.response.body?.cancel();
    throw new XltError(`${endpoint} answered ${urlOf(revision, 'config.json')} without an X-Repo-Commit header, so the file cannot be filed under its commit in the Hugging Face cache. Give a commit hash as the revision, or use the official hub.`);
  }
  await storeFile(repo, commit, 'config.json', first, `${idOrFolder}/config.json`, progress);
  await repo.writeRef(revision, commit);
  const get = async (file: string, required: boolean): Promise<boolean> => {
    if (repo.has(commit, file)) return true;
    if (!required && repo.knownMissing(commit, file)) return false;
    const opened = await openFile(urlOf(commit, file));
    if (!opened) {
      if (required) throw new XltError(`Could not download ${urlOf(commit, file)}: HTTP 404 Not Found.`);
      await repo.markMissing(commit, file);
      return false;
    }
    await storeFile(repo, commit, file, opened, `${idOrFolder}/${file}`, progress);
    return true;
  };
  for (const name of TOKENIZER_FILE_NAMES) await get(name, false);
  if (!(await downloadWeights(get, repo.snapshotDir(commit)))) {
    throw new XltError(
      `Model "${idOrFolder}" at ${endpoint} has no weights xlt reads: none of ${MODEL_WEIGHT_FILES.join(', ')} exists under ${urlOf(revision, '')}. ` +
        'Check the id and revision, or pass a model folder.',
    );
  }
  return repo.snapshotDir(commit);
}

/**
 * Downloads the first weight file of {@link MODEL_WEIGHT_FILES} that the hub has, and for a sharded index (safetensors
 * or PyTorch alike) every shard it names; false when the hub has none of them.
 */
async function downloadWeights(get: (file: string, required: boolean) => Promise<boolean>, folder: string): Promise<boolean> {
  // Weights already in the snapshot (transformers may have fetched another kind than xlt would first) are used.
  const present = MODEL_WEIGHT_FILES.find((name) => existsSync(join(folder, name)));
  for (const name of present ? [present] : MODEL_WEIGHT_FILES) {
    if (!(await get(name, false))) continue;
    if (name.endsWith('.index.json')) {
      for (const shard of await shardsOf(join(folder, name))) await get(shard, true);
    }
    return true;
  }
  return false;
}

/** The distinct shard file names of a sharded-checkpoint index, checked to lie in the index's folder. */
async function shardsOf(indexFile: string): Promise<string[]> {
  let weightMap: unknown;
  try {
    weightMap = (JSON.parse(await readFile(indexFile, 'utf8')) as { weight_map?: unknown } | null)?.weight_map;
  } catch (error) {
    throw new InputError([{ file: indexFile, expected: 'a JSON sharded-checkpoint index', found: (error as Error).message }]);
  }
  if (weightMap === null || typeof weightMap !== 'object' || Array.isArray(weightMap) || Object.keys(weightMap).length === 0) {
    throw new InputError([{ file: indexFile, path: 'weight_map', expected: 'a non-empty object mapping tensor names to shard file names', found: JSON.stringify(weightMap) ?? 'nothing' }]);
  }
  const shards = [...new Set(Object.values(weightMap as Record<string, unknown>))];
  for (const shard of shards) {
    if (typeof shard !== 'string' || shard === '' || shard.includes('/') || shard.includes('\\') || shard.startsWith('.')) {
      throw new InputError([{ file: indexFile, path: 'weight_map', expected: 'shard file names in the same folder', found: JSON.stringify(shard) }]);
    }
  }
  return shards as string[];
}

/** A file the hub answered with: the body to read, and the commit and blob id its headers gave. */
interface OpenedFile {
  readonly response: Response;
  readonly commit?: string;
  readonly etag?: string;
}

const etagOf = (value: string | null) => value?.replace(/^W\//, '').replace(/"/g, '') || undefined;

/**
 * Requests a file from the hub; `undefined` on 404. Redirects within the hub (a renamed repository) are followed
 * with the token; the redirect to the file store (large files) is followed without it, and the hub's headers
 * (`X-Repo-Commit`, `X-Linked-Etag`) are taken from the redirect, as huggingface_hub does.
 */
async function openFile(url: string): Promise<OpenedFile | undefined> {
  const headers: Record<string, string> = {};
  const token = process.env['HF_TOKEN'];
  if (token) headers['authorization'] = `Bearer ${token}`;
  let current = url;
  let commit: string | undefined;
  let etag: string | undefined;
  for (let hops = 0; hops < 10; hops++) {
    let response: Response;
    try {
      response = await fetch(current, hops === 0 || new URL(current).origin === new URL(url).origin ? { headers, redirect: 'manual' } : { redirect: 'follow' });
    } catch (error) {
      throw new XltError(`Could not download ${url}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}. Set HF_HUB_OFFLINE=1 (or --offline) to use the cache only.`);
    }
    commit ??= response.headers.get('x-repo-commit') ?? undefined;
    etag ??= etagOf(response.headers.get('x-linked-etag')) ?? (response.status < 300 ? etagOf(response.headers.get('etag')) : undefined);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      current = new URL(location, current).href;
      continue;
    }
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new XltError(`Could not download ${url}: HTTP ${response.status} ${response.statusText}${response.status === 401 || response.status === 403 ? ' (a gated or private model needs HF_TOKEN)' : ''}.`);
    }
    return { response, ...(commit ? { commit } : {}), ...(etag ? { etag } : {}) };
  }
  throw new XltError(`Could not download ${url}: more than 10 redirects.`);
}

/**
 * Streams a file into the cache's `blobs/` (named by its etag, else by the sha256 of its bytes; a blob already there
 * is not written again) and links it into the snapshot, with progress lines.
 */
async function storeFile(repo: HubRepoCache, commit: string, file: string, opened: OpenedFile, label: string, progress: (line: string) => void): Promise<void> {
  const { response } = opened;
  if (opened.etag && existsSync(repo.blobFile(opened.etag))) {
    await response.body?.cancel();
    await repo.link(commit, file, opened.etag);
    return;
  }
  const total = Number(response.headers.get('content-length') ?? 0);
  await mkdir(dirname(repo.blobFile('x')), { recursive: true });
  const tmp = tempPathFor(repo.blobFile(`${randomBytes(8).toString('hex')}.incomplete`));
  const out = createWriteStream(tmp);
  const hash = createHash('sha256');
  let received = 0;
  let lastReport = 0;
  try {
    const reader = response.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
      hash.update(value);
      if (!out.write(value)) await new Promise<void>((r) => out.once('drain', () => r()));
      const now = Date.now();
      if (now - lastReport > 1000) {
        lastReport = now;
        progress(`downloading ${label}: ${mb(received)}${total ? ` of ${mb(total)} (${Math.floor((100 * received) / total)}%)` : ''}`);
      }
    }
    await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
    if (total && received !== total) throw new XltError(`Download of ${response.url} stopped after ${received} of ${total} bytes.`);
    const etag = opened.etag ?? hash.digest('hex');
    await rename(tmp, repo.blobFile(etag));
    await repo.link(commit, file, etag);
    progress(`downloaded ${label} (${mb(received)})`);
  } catch (error) {
    out.destroy();
    await rm(tmp, { force: true });
    throw error;
  }
}

function mb(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
