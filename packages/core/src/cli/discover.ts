import { readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ContainerModule } from 'inversify';
import { XltError } from '@xlt/plugin-api';

/** A package that declares itself an xlt plugin in its package.json: `"xlt": { "module": "<export name>" }`. */
export interface PluginPackage {
  readonly name: string;
  readonly dir: string;
  readonly exportName: string;
}

/** Every `node_modules` folder from `start` up to the root, nearest first. */
function nodeModulesChain(start: string): string[] {
  const out: string[] = [];
  let dir = resolve(start);
  for (;;) {
    out.push(join(dir, 'node_modules'));
    const parent = dirname(dir);
    if (parent === dir) return out;
    dir = parent;
  }
}

async function readManifest(dir: string): Promise<PluginPackage | undefined> {
  try {
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { name?: string; xlt?: { module?: string } };
    if (pkg.name && typeof pkg.xlt?.module === 'string') return { name: pkg.name, dir, exportName: pkg.xlt.module };
  } catch {
    // not a package folder
  }
  return undefined;
}

/**
 * Finds installed xlt plugin packages by their package.json marker in every reachable `node_modules`
 * (scoped and unscoped). Core thus loads task and strategy packages without knowing their names.
 */
export async function discoverPluginPackages(from: string[]): Promise<PluginPackage[]> {
  const found = new Map<string, PluginPackage>();
  for (const base of from.flatMap(nodeModulesChain)) {
    let entries: string[];
    try {
      entries = await readdir(base);
    } catch {
      continue;
    }
    for (const entry of entries) {
      const dirs = entry.startsWith('@')
        ? (await readdir(join(base, entry)).catch(() => [] as string[])).map((e) => join(base, entry, e))
        : [join(base, entry)];
      for (const dir of dirs) {
        const pkg = await readManifest(dir);
        if (pkg && !found.has(pkg.name)) found.set(pkg.name, pkg);
      }
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The ESM entry file of a package folder, from its `exports` (import/default condition) or `main`. */
async function packageEntry(dir: string): Promise<string | undefined> {
  let pkg: { exports?: unknown; main?: string };
  try {
    pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
  } catch {
    return undefined;
  }
  let entry: unknown = pkg.exports;
  if (entry && typeof entry === 'object' && '.' in entry) entry = (entry as Record<string, unknown>)['.'];
  while (entry && typeof entry === 'object') {
    const conditions = entry as Record<string, unknown>;
    entry = conditions.import ?? conditions.default ?? conditions.node;
  }
  return join(dir, typeof entry === 'string' ? entry : (pkg.main ?? 'index.js'));
}

/** Imports the `ContainerModule` a plugin package (or a module path) exports. */
export async function importPluginModule(specifier: string, exportName?: string, base = process.cwd()): Promise<ContainerModule> {
  let url: string;
  if (specifier.startsWith('.') || specifier.startsWith('/')) {
    const path = resolve(base, specifier);
    url = pathToFileURL((await packageEntry(path)) ?? path).href;
  } else {
    const dir = nodeModulesChain(base).map((nm) => join(nm, specifier)).find((d) => existsSync(join(d, 'package.json')));
    url = dir ? pathToFileURL((await packageEntry(dir))!).href : specifier;
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new XltError(`Cannot load the plugin "${specifier}": ${(error as Error).message}`, { cause: error });
  }
  const name = exportName ?? Object.keys(mod).find((k) => k.endsWith('Module') && isContainerModule(mod[k]));
  const value = name ? mod[name] : undefined;
  if (!isContainerModule(value)) {
    throw new XltError(`The plugin "${specifier}" has no ContainerModule export${exportName ? ` named "${exportName}"` : ''}.`);
  }
  return value;
}

function isContainerModule(value: unknown): value is ContainerModule {
  return typeof value === 'object' && value !== null && typeof (value as { load?: unknown }).load === 'function' && 'id' in value;
}
