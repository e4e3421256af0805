import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { workspacePackages, type WorkspacePackage } from './pack.js';

/**
 * The plugin architecture, checked on the sources rather than promised in a README. Three layers: the plugin API
 * (`@xlt/plugin-api`) imports no workspace package; the runtime (`@xlt/core`) imports only the plugin API; every
 * plugin package imports only the plugin API (core and other plugins at most in its tests). And the top-level
 * folders of a package's `src/` form layers, not a knot.
 */

const PLUGIN_API = '@xlt/plugin-api';
const CORE = '@xlt/core';

/** One import statement found in a source file. */
interface SourceImport {
  /** The file, relative to the repository root. */
  readonly file: string;
  readonly specifier: string;
}

/** Non-test TypeScript sources: specs, data-suite tests and `*.testing.ts` files are tests, not product. */
function isSource(name: string): boolean {
  return name.endsWith('.ts') && !/\.(spec|data|testing)\.ts$/.test(name) && !name.endsWith('.d.ts');
}

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sourceFiles(p)));
    else if (isSource(e.name)) out.push(p);
  }
  return out.sort();
}

/** `import ... from '...'`, `export ... from '...'` (type-only too), bare `import '...'` and `import('...')`. */
const IMPORT_PATTERN =
  /(?:^|[\s;])(?:import|export)\s[^'";]*?\sfrom\s*['"]([^'"]+)['"]|(?:^|[\s;])(?:import|export)\s*\*?\s*from\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

/** The import specifiers of a TypeScript source, comments removed first so that TSDoc examples do not count. */
export function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  return [...code.matchAll(IMPORT_PATTERN)].map((m) => m[1] ?? m[2] ?? m[3] ?? m[4]!);
}

async function importsIn(pkg: WorkspacePackage, root: string): Promise<SourceImport[]> {
  const out: SourceImport[] = [];
  for (const file of await sourceFiles(join(pkg.dir, 'src'))) {
    for (const specifier of importsOf(await readFile(file, 'utf8'))) out.push({ file: relative(root, file), specifier });
  }
  return out;
}

/** The workspace package a bare specifier names (`@xlt/core/testing` → `@xlt/core`), if it is one. */
function workspaceTarget(specifier: string, names: ReadonlySet<string>): string | undefined {
  if (!specifier.startsWith('@')) return undefined;
  const name = specifier.split('/').slice(0, 2).join('/');
  return names.has(name) ? name : undefined;
}

/**
 * The unit a source file belongs to for the folder-layer check: its top-level folder under `src/`, a `testing/`
 * folder below it as a unit of its own (test helpers sit above the code they exercise), or a file directly in
 * `src/` on its own (an `index.ts` re-exports everything and must not glue all folders together).
 */
export function unitOf(pathInSrc: string): string {
  const parts = pathInSrc.split(/[\\/]/);
  if (parts.length === 1) return parts[0]!;
  const testing = parts.indexOf('testing');
  if (testing > 0 && testing < parts.length - 1) return parts.slice(0, testing + 1).join('/') + '/';
  return parts[0]! + '/';
}

/** The cycles among units, one per strongly connected component of two or more units, as a path back to its start. */
export function folderCycles(edges: ReadonlyMap<string, ReadonlyMap<string, string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let next = 0;
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component);
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) connect(v);
  // A concrete cycle through each component: breadth-first from its first unit back to itself, inside it.
  return components.map((component) => {
    const inside = new Set(component);
    const start = [...component].sort()[0]!;
    const previous = new Map<string, string>();
    const queue = [start];
    while (queue.length > 0) {
      const v = queue.shift()!;
      for (const w of edges.get(v)?.keys() ?? []) {
        if (!inside.has(w)) continue;
        if (w === start) {
          const path = [v];
          while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
          return [...path, start];
        }
        if (!previous.has(w)) {
          previous.set(w, v);
          queue.push(w);
        }
      }
    }
    return [...component, component[0]!];
  });
}

/** The folder-layer problems of one package: each cycle, with one importing file and specifier per step. */
async function folderProblems(pkg: WorkspacePackage, root: string): Promise<string[]> {
  const src = join(pkg.dir, 'src');
  // from unit → to unit → an example `file imports 'specifier'`
  const edges = new Map<string, Map<string, string>>();
  for (const { file, specifier } of await importsIn(pkg, root)) {
    if (!specifier.startsWith('.')) continue;
    const absolute = resolve(root, file);
    const target = resolve(dirname(absolute), specifier);
    if (!target.startsWith(src + sep)) continue;
    const from = unitOf(relative(src, absolute));
    const to = unitOf(relative(src, target));
    if (from === to) continue;
    const out = edges.get(from) ?? new Map<string, string>();
    if (!out.has(to)) out.set(to, `${file} imports '${specifier}'`);
    edges.set(from, out);
  }
  return folderCycles(edges).map((cycle) => {
    const steps = cycle.slice(1).map((to, i) => `  ${cycle[i]} → ${to}: ${edges.get(cycle[i]!)!.get(to)}`);
    return `${pkg.name}: folder cycle ${cycle.join(' → ')}\n${steps.join('\n')}`;
  });
}

describe('the plugin architecture', async () => {
  const root = resolve(import.meta.dirname, '../..');
  const packages = await workspacePackages();
  const names = new Set(packages.map((p) => p.name));

  it('finds the plugin API, the core and at least one plugin package', () => {
    expect(names.has(PLUGIN_API)).toBe(true);
    expect(names.has(CORE)).toBe(true);
    expect(names.size).toBeGreaterThan(2);
  });

  /** The imports of `pkg`'s sources that name a workspace package other than itself and those it may use. */
  const forbidden = async (pkg: WorkspacePackage, allowed: readonly string[]) =>
    (await importsIn(pkg, root)).filter(({ specifier }) => {
      const target = workspaceTarget(specifier, names);
      return target !== undefined && target !== pkg.name && !allowed.includes(target);
    });

  it('the plugin API imports no other workspace package', async () => {
    const api = packages.find((p) => p.name === PLUGIN_API)!;
    expect((await forbidden(api, [])).map(({ file, specifier }) => `${file}: the plugin API imports '${specifier}'`)).toEqual([]);
  });

  it('core imports no plugin package, only the plugin API', async () => {
    const core = packages.find((p) => p.name === CORE)!;
    expect((await forbidden(core, [PLUGIN_API])).map(({ file, specifier }) => `${file}: core imports plugin package '${specifier}'`)).toEqual([]);
  });

  it('no plugin package imports another plugin package or core, only the plugin API', async () => {
    const problems: string[] = [];
    for (const pkg of packages.filter((p) => p.name !== CORE && p.name !== PLUGIN_API)) {
      for (const { file, specifier } of await forbidden(pkg, [PLUGIN_API])) problems.push(`${file}: plugin ${pkg.name} imports '${specifier}'`);
    }
    expect(problems).toEqual([]);
  });

  it('no plugin package depends on core or another plugin at run time (package.json), only on the plugin API', async () => {
    const problems: string[] = [];
    for (const pkg of packages.filter((p) => p.name !== CORE && p.name !== PLUGIN_API)) {
      const manifest = JSON.parse(await readFile(join(pkg.dir, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
      for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
        for (const dep of Object.keys(manifest[field] ?? {})) {
          if (names.has(dep) && dep !== PLUGIN_API) problems.push(`${pkg.name}: ${field} names '${dep}'`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it.each(packages.map((p) => [p.name, p] as const))('the top-level folders of %s import each other in no cycle', async (_name, pkg) => {
    expect(await folderProblems(pkg, root)).toEqual([]);
  });
});

describe('the architecture check itself', () => {
  it('parses every import form, type-only and dynamic ones included, and skips comments', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../b/b.js';",
      "export { c } from './c.js';",
      "export type { D } from './d.js';",
      "export * from './e.js';",
      "import * as f from 'f';",
      "import './g.js';",
      "const h = await import('./h.js');",
      'import {',
      '  i,',
      "} from '@xlt/i';",
      "// import { no } from './comment.js';",
      "/** import { no } from './doc.js'; */",
    ].join('\n');
    expect(importsOf(text).sort()).toEqual(['../b/b.js', './a.js', './c.js', './d.js', './e.js', './g.js', './h.js', '@xlt/i', 'f'].sort());
  });

  it('finds a cycle through three folders and none in a layered graph', () => {
    const graph = (pairs: [string, string][]) => {
      const m = new Map<string, Map<string, string>>();
      for (const [a, b] of pairs) m.set(a, (m.get(a) ?? new Map()).set(b, `${a}->${b}`));
      return m;
    };
    expect(folderCycles(graph([['a/', 'b/'], ['b/', 'c/'], ['c/', 'a/'], ['c/', 'd/']]))).toEqual([['a/', 'b/', 'c/', 'a/']]);
    expect(folderCycles(graph([['a/', 'b/'], ['b/', 'c/'], ['a/', 'c/']]))).toEqual([]);
  });

  it('treats testing folders and files directly in src as units of their own', () => {
    expect(unitOf('experiment/runner.ts')).toBe('experiment/');
    expect(unitOf('experiment/testing/fake.ts')).toBe('experiment/testing/');
    expect(unitOf('testing/index.ts')).toBe('testing/');
    expect(unitOf('index.ts')).toBe('index.ts');
  });
});
