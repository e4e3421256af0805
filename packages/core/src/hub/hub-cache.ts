import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, symlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { tempPathFor, writeFileAtomic } from '@xlt/plugin-api';

/**
 * The Hugging Face hub cache that `huggingface_hub` and transformers share: `HF_HUB_CACHE`, else
 * `HUGGINGFACE_HUB_CACHE` (its older name), else `$HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`, else
 * `~/.cache/huggingface/hub`.
 */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['HF_HUB_CACHE']) return resolve(env['HF_HUB_CACHE']);
  if (env['HUGGINGFACE_HUB_CACHE']) return resolve(env['HUGGINGFACE_HUB_CACHE']);
  if (env['HF_HOME']) return resolve(env['HF_HOME'], 'hub');
  return resolve(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'huggingface', 'hub');
}

/** A full git commit hash, which names a snapshot (a branch or tag name is looked up in `refs/`). */
export const COMMIT_HASH = /^[0-9a-f]{40}$/;

/**
 * One model repository in the hub cache, in huggingface_hub's layout:
 * `models--{org}--{name}/refs/{revision}` (the commit a branch or tag pointed at), `snapshots/{commit}/{file}` (a
 * relative symlink to `blobs/{etag}`, the file's bytes, stored once for every snapshot) and `.no_exist/{commit}/{file}`
 * (files the hub does not have at that commit, so they are not asked for again).
 */
export class HubRepoCache {
  /** The repository's folder: `models--org--name`. */
  readonly dir: string;
  constructor(
    readonly root: string,
    readonly id: string,
  ) {
    this.dir = join(root, `models--${id.split('/').join('--')}`);
  }
  /** `refs/{revision}`: the commit a branch or tag pointed at when last downloaded. */
  refFile(revision: string): string {
    return join(this.dir, 'refs', revision);
  }
  /** `snapshots/{commit}`: the model folder of that commit. */
  snapshotDir(commit: string): string {
    return join(this.dir, 'snapshots', commit);
  }
  /** `blobs/{etag}`: the bytes of one file version. */
  blobFile(etag: string): string {
    return join(this.dir, 'blobs', etag);
  }
  /** `.no_exist/{commit}/{file}`: the hub said the file does not exist at that commit. */
  noExistFile(commit: string, file: string): string {
    return join(this.dir, '.no_exist', commit, file);
  }

  /** The commit a revision names: itself when it is a commit hash, else what `refs/{revision}` holds. */
  async commitOf(revision: string): Promise<string | undefined> {
    if (COMMIT_HASH.test(revision)) return revision;
    try {
      const commit = (await readFile(this.refFile(revision), 'utf8')).trim();
      return COMMIT_HASH.test(commit) ? commit : undefined;
    } catch {
      return undefined;
    }
  }

  /** Records which commit a branch or tag points at (nothing for a commit hash). */
  async writeRef(revision: string, commit: string): Promise<void> {
    if (revision === commit) return;
    await writeFileAtomic(this.refFile(revision), commit);
  }

  /** Whether the snapshot of a commit has a file. */
  has(commit: string, file: string): boolean {
    return existsSync(join(this.snapshotDir(commit), file));
  }
  /** Whether the hub said a file does not exist at a commit (`.no_exist`). */
  knownMissing(commit: string, file: string): boolean {
    return existsSync(this.noExistFile(commit, file));
  }
  /** Remembers that the hub has no such file at a commit, so it is not asked for again. */
  async markMissing(commit: string, file: string): Promise<void> {
    await writeFileAtomic(this.noExistFile(commit, file), '');
  }

  /**
   * Puts a blob into a snapshot under a file name: a relative symlink, as huggingface_hub makes them, or a copy
   * where the file system has no symlinks. Replaces what was there atomically.
   */
  async link(commit: string, file: string, etag: string): Promise<void> {
    const target = join(this.snapshotDir(commit), file);
    await mkdir(dirname(target), { recursive: true });
    const tmp = tempPathFor(target);
    try {
      await symlink(relative(dirname(target), this.blobFile(etag)), tmp);
    } catch (error) {
      if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EINVAL'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
      await copyFile(this.blobFile(etag), tmp);
    }
    try {
      await rename(tmp, target);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }
}
