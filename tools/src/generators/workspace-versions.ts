import { readJson, type Tree } from '@nx/devkit';

/**
 * The version of a workspace package (`packages/core` → `@xlt/core`), so that generated packages pin the
 * versions they are released with (the release is `fixed`); `fallback` when the package is not in the tree.
 */
export function workspaceVersion(tree: Tree, folder: string, fallback = '0.1.0'): string {
  const file = `packages/${folder}/package.json`;
  if (!tree.exists(file)) return fallback;
  const version = readJson<{ version?: unknown }>(tree, file).version;
  return typeof version === 'string' ? version : fallback;
}

/** The exact dependency versions the generated packages use, read from the root package.json where listed. */
export function dependencyVersion(tree: Tree, name: string, fallback: string): string {
  if (!tree.exists('package.json')) return fallback;
  const root = readJson<Record<string, Record<string, string> | undefined>>(tree, 'package.json');
  return root.devDependencies?.[name] ?? root.dependencies?.[name] ?? fallback;
}

/**
 * The version `packages/<folder>` depends on for `name` (e.g. core's `@tensorflow/tfjs`), looked up in `fields` in
 * order (by default its dependencies, then its peer dependencies); `fallback` otherwise.
 */
export function packageDependencyVersion(
  tree: Tree,
  folder: string,
  name: string,
  fallback: string,
  ...fields: ('dependencies' | 'peerDependencies' | 'devDependencies')[]
): string {
  const file = `packages/${folder}/package.json`;
  if (!tree.exists(file)) return fallback;
  const pkg = readJson<Record<string, Record<string, string> | undefined>>(tree, file);
  for (const field of fields.length ? fields : (['dependencies', 'peerDependencies'] as const)) {
    const version = pkg[field]?.[name];
    if (version) return version;
  }
  return fallback;
}
