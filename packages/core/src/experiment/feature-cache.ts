import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TOKENIZER_FILE_NAMES, type Feature, type TaskContext, type TaskPlugin, type Tokenizer } from '@xlt/plugin-api';

/**
 * The tokenizer files of a model folder, hashed: every checkpoint and averaged model of an experiment carries a
 * copy of the pretrained model's tokenizer, so equal hashes mean the same tokenization. `undefined` when the folder
 * holds none of the known files (a provider reading other files), which turns caching off for it.
 */
export async function tokenizerFingerprint(folder: string): Promise<string | undefined> {
  const hash = createHash('sha256');
  let found = false;
  for (const name of TOKENIZER_FILE_NAMES) {
    const bytes = await readFile(join(folder, name)).catch(() => undefined);
    if (!bytes) continue;
    found = true;
    hash.update(`${name}\u0000${bytes.length}\u0000`).update(bytes);
  }
  return found ? hash.digest('hex') : undefined;
}

/**
 * Tokenizers and features computed once per data set and reused for every checkpoint and run that shares the
 * tokenizer: scoring twelve checkpoints on five target languages featurizes each language once, not twelve times,
 * and every run of a grid trains from the same source features. Data sets are keyed by the identity of their
 * example arrays (the experiment reads each file once), so a cache entry lives as long as the examples do.
 */
export class FeatureCache {
  readonly #tokenizers = new Map<string, Promise<Tokenizer>>();
  readonly #features = new WeakMap<readonly unknown[], Map<string, Promise<Feature[]>>>();

  /** The tokenizer for `folder`, loaded once per provider and tokenizer fingerprint. */
  async tokenizer(folder: string, provider: string, load: () => Promise<Tokenizer>): Promise<{ tokenizer: Tokenizer; fingerprint?: string }> {
    const fingerprint = await tokenizerFingerprint(folder);
    if (fingerprint === undefined) return { tokenizer: await load() };
    const key = `${provider}\u0000${fingerprint}`;
    let loaded = this.#tokenizers.get(key);
    if (!loaded) {
      loaded = load();
      this.#tokenizers.set(key, loaded);
      // A failed load is not remembered: the next model folder tries again and reports its own error.
      loaded.catch(() => this.#tokenizers.delete(key));
    }
    return { tokenizer: await loaded, fingerprint };
  }

  /** `task.featurize(examples, tokenizer, context)`, computed once per examples, tokenizer fingerprint and context. */
  featurize(task: TaskPlugin, examples: readonly unknown[], tokenizer: Tokenizer, fingerprint: string | undefined, context: TaskContext): Promise<Feature[]> {
    if (fingerprint === undefined) return task.featurize(examples, tokenizer, context);
    const key = JSON.stringify([task.id, fingerprint, context.labels, context.maxLength, context.language ?? null, context.options]);
    let byKey = this.#features.get(examples);
    if (!byKey) this.#features.set(examples, (byKey = new Map()));
    let features = byKey.get(key);
    if (!features) {
      features = task.featurize(examples, tokenizer, context);
      byKey.set(key, features);
      features.catch(() => byKey.delete(key));
    }
    return features;
  }
}
