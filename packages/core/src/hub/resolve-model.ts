import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { InputError, XltError, tempPathFor } from '@xlt/plugin-api';
import { TOKENIZER_FILE_NAMES } from '@xlt/plugin-api';
import { MODEL_WEIGHT_FILES } from '../torch-bin/model-weights.js';

/** Where {@link resolveModel} looks and downloads. */
export interface ResolveModelOptions {
  /** Cache root; default `XLT_CACHE` or `~/.cache/xlt`. */
  readonly cacheDir?: string;
  /** Use the cache only; default true when `HF_HUB_OFFLINE=1`. */
  readonly offline?: boolean;
  /** Hub base URL; default `HF_ENDPOINT` or `https://huggingface.co`. */
  readonly endpoint?: string;
  /** Branch, tag or commit; default `main`. */
  readonly revision?: string;
  /** Progress lines; default: written to stderr. */
  readonly progress?: (line: string) => void;
}

const HUB_ID = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;
const COMPLETE_MARKER = '.xlt-complete';

/** The cache folder of a hub id at a revision. */
export function modelCacheFolder(id: string, options: Pick<ResolveModelOptions, 'cacheDir' | 'revision'> = {}): string {
  const root = options.cacheDir ?? process.env['XLT_CACHE'] ?? join(homedir(), '.cache', 'xlt');
  return join(resolve(root), 'models', id.replace('/', '--'), options.revision ?? 'main');
}

/**
 * Turns a model argument into a local HF model folder. An existing folder is used as is. Otherwise the argument is
 * a hub id (`org/name`): `config.json`, the tokenizer files and the weights are downloaded from
 * `<endpoint>/<id>/resolve/<revision>/<file>` into the cache, each file atomically, with progress on stderr; a
 * complete cached copy is used without any request. The weights are the first that exists, in the order of
 * transformers' `from_pretrained` ({@link MODEL_WEIGHT_FILES}): `model.safetensors`, `model.safetensors.index.json`,
 * `pytorch_model.bin`, `pytorch_model.bin.index.json`; a sharded index comes with every shard it names. A model with
 * none of them is an {@link XltError} listing all four. Offline, only the cache is used and a missing model is a
 * clear error.
 */
export async function resolveModel(idOrFolder: string, options: ResolveModelOptions = {}): Promise<string> {
  if (await isDirectory(idOrFolder)) return resolve(idOrFolder);
  if (!HUB_ID.test(idOrFolder)) {
    throw new InputError([{ file: idOrFolder, expected: 'an HF model folder or a hub id such as "org/name"', found: 'no such folder, and not a hub id' }]);
  }
  const folder = modelCacheFolder(idOrFolder, options);
  if (existsSync(join(folder, COMPLETE_MARKER))) return folder;
  const offline = options.offline ?? process.env['HF_HUB_OFFLINE'] === '1';
  if (offline) {
    throw new XltError(
      `Model "${idOrFolder}" is not in the cache (${folder}) and downloads are off (${options.offline ? 'offline mode' : 'HF_HUB_OFFLINE=1'}). ` +
        'Run once with network access, or pass a model folder.',
    );
  }
  const endpoint = (options.endpoint ?? process.env['HF_ENDPOINT'] ?? 'https://huggingface.co').replace(/\/+$/, '');
  const base = `${endpoint}/${idOrFolder}/resolve/${encodeURIComponent(options.revision ?? 'main')}`;
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  await mkdir(folder, { recursive: true });
  const get = (file: string, required: boolean) => download(`${base}/${file}`, join(folder, file), required, `${idOrFolder}/${file}`, progress);

  if (!(await get('config.json', false))) {
    throw new XltError(`Model "${idOrFolder}" was not found at ${endpoint} (no config.json at ${base}/config.json). Check the id, or pass a model folder.`);
  }
  for (const name of TOKENIZER_FILE_NAMES) await get(name, false);
  if (!(await downloadWeights(get, folder))) {
    throw new XltError(
      `Model "${idOrFolder}" at ${endpoint} has no weights xlt reads: none of ${MODEL_WEIGHT_FILES.join(', ')} exists under ${base}/. ` +
        'Check the id and revision, or pass a model folder.',
    );
  }
  await writeFile(join(folder, COMPLETE_MARKER), `${new Date().toISOString()}\n`);
  return folder;
}

/**
 * Downloads the first weight file of {@link MODEL_WEIGHT_FILES} that the hub has, and for a sharded index (safetensors
 * or PyTorch alike) every shard it names; false when the hub has none of them.
 */
async function downloadWeights(get: (file: string, required: boolean) => Promise<boolean>, folder: string): Promise<boolean> {
  for (const name of MODEL_WEIGHT_FILES) {
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

/** Downloads one file to a temporary name and renames it; false on 404 when not required. Existing files are kept. */
async function download(url: string, target: string, required: boolean, label: string, progress: (line: string) => void): Promise<boolean> {
  if (existsSync(target)) return true;
  const headers: Record<string, string> = {};
  const token = process.env['HF_TOKEN'];
  if (token) headers['authorization'] = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(url, { headers, redirect: 'follow' });
  } catch (error) {
    throw new XltError(`Could not download ${url}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}. Set HF_HUB_OFFLINE=1 to use the cache only.`);
  }
  if (response.status === 404 && !required) {
    await response.body?.cancel();
    return false;
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new XltError(`Could not download ${url}: HTTP ${response.status} ${response.statusText}${response.status === 401 || response.status === 403 ? ' (a gated or private model needs HF_TOKEN)' : ''}.`);
  }
  const total = Number(response.headers.get('content-length') ?? 0);
  const tmp = tempPathFor(target);
  const out = createWriteStream(tmp);
  let received = 0;
  let lastReport = 0;
  try {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
      if (!out.write(value)) await new Promise<void>((r) => out.once('drain', () => r()));
      const now = Date.now();
      if (now - lastReport > 1000) {
        lastReport = now;
        progress(`downloading ${label}: ${mb(received)}${total ? ` of ${mb(total)} (${Math.floor((100 * received) / total)}%)` : ''}`);
      }
    }
    await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
    if (total && received !== total) throw new XltError(`Download of ${url} stopped after ${received} of ${total} bytes.`);
    await rename(tmp, target);
    progress(`downloaded ${label} (${mb(received)})`);
    return true;
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
