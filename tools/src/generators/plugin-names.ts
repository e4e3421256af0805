import { joinPathFragments, type Tree } from '@nx/devkit';

/** The names a generated plugin package is known by, all derived from the one name given on the command line. */
export interface PluginNames {
  /** Folder under the packages directory, e.g. `tasks-sentiment`. */
  readonly folder: string;
  /** npm name, e.g. `@xlt/tasks-sentiment`. */
  readonly packageName: string;
  /** Plugin id, lower-case with dashes, e.g. `sentiment`. */
  readonly id: string;
  /** camelCase of the id, e.g. `sentiment`; the module is `${camel}Module`. */
  readonly camel: string;
  /** PascalCase of the id, e.g. `Sentiment`. */
  readonly pascal: string;
}

const NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/**
 * Derives the names of a plugin package from `name` (the folder). The id is `id` when given, else the name
 * without `prefix` (`tasks-sentiment` → `sentiment`), so that folders follow the repository's `tasks-*` pattern
 * while plugin ids stay short. Both must be lower-case words joined by dashes.
 */
export function pluginNames(name: string, prefix: string, id?: string): PluginNames {
  if (!NAME.test(name)) {
    throw new Error(`Invalid package name "${name}": expected lower-case words joined by dashes, e.g. "${prefix}example".`);
  }
  const pluginId = id ?? (name.startsWith(prefix) && name.length > prefix.length ? name.slice(prefix.length) : name);
  if (!NAME.test(pluginId)) {
    throw new Error(`Invalid plugin id "${pluginId}": expected lower-case words joined by dashes, e.g. "example".`);
  }
  const camel = pluginId.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  return {
    folder: name,
    packageName: `@xlt/${name}`,
    id: pluginId,
    camel,
    pascal: camel.charAt(0).toUpperCase() + camel.slice(1),
  };
}

/**
 * The folder a generator writes `names` into (`<directory>/<folder>`, `packages` by default); an error when it
 * exists and is not empty, so a generator never overwrites a package.
 */
export function newPackageRoot(tree: Tree, names: PluginNames, directory = 'packages'): string {
  const root = joinPathFragments(directory, names.folder);
  if (tree.exists(root) && tree.children(root).length > 0) {
    throw new Error(`Cannot generate ${names.packageName}: ${root} already exists. Choose another name or remove it.`);
  }
  return root;
}
