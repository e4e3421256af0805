import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

/** Runs a command, returning stdout; the error carries stderr. */
export const exec = promisify(execFile);

/** The repository root. */
export const repoRoot = resolve(import.meta.dirname, '../..');

/** A workspace package under `packages/`. */
export interface WorkspacePackage {
  readonly dir: string;
  readonly name: string;
  readonly manifest: {
    name: string;
    version?: string;
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
    files?: string[];
  };
}

/** Every package under `packages/`. */
export async function workspacePackages(): Promise<WorkspacePackage[]> {
  const base = join(repoRoot, 'packages');
  const out: WorkspacePackage[] = [];
  for (const entry of (await readdir(base)).sort()) {
    const file = join(base, entry, 'package.json');
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(await readFile(file, 'utf8'));
    out.push({ dir: join(base, entry), name: manifest.name, manifest });
  }
  return out;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

/** The package name of a bare specifier (`@scope/name/sub` → `@scope/name`). */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/**
 * Problems with a built package's imports: a relative import that leaves `dist` or points at no file, or a bare
 * import of a package that is not among its dependencies (or peer/optional ones) and is not a Node builtin.
 */
export async function importProblems(pkg: WorkspacePackage): Promise<string[]> {
  const dist = join(pkg.dir, 'dist');
  const declared = new Set([
    pkg.name,
    ...Object.keys(pkg.manifest.dependencies ?? {}),
    ...Object.keys(pkg.manifest.peerDependencies ?? {}),
    ...Object.keys(pkg.manifest.optionalDependencies ?? {}),
  ]);
  const builtins = new Set(builtinModules);
  const problems: string[] = [];
  const pattern = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^import\s*['"]([^'"]+)['"]/gm;
  for (const file of (await walk(dist)).filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'))) {
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(pattern)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      const where = relative(pkg.dir, file);
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        if (!target.startsWith(dist)) problems.push(`${where}: imports ${spec}, outside its dist`);
        else if (!existsSync(target) && !existsSync(target.replace(/\.js$/, '.d.ts'))) problems.push(`${where}: imports ${spec}, which does not exist`);
      } else if (spec.startsWith('node:') || builtins.has(spec)) {
        continue;
      } else if (!declared.has(packageOf(spec))) {
        problems.push(`${where}: imports "${spec}", not a declared dependency of ${pkg.name}`);
      }
    }
  }
  return problems;
}

/** Files `npm pack` would put in the tarball. */
export async function packedFiles(pkg: WorkspacePackage): Promise<string[]> {
  const { stdout } = await exec('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: pkg.dir });
  const [info] = JSON.parse(stdout) as { files: { path: string }[] }[];
  return info!.files.map((f) => f.path).sort();
}

/** Packs a package into `dest`, returning the tarball path. */
export async function pack(pkg: WorkspacePackage, dest: string): Promise<string> {
  const { stdout } = await exec('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dest], { cwd: pkg.dir });
  const [info] = JSON.parse(stdout) as { filename: string }[];
  return join(dest, info!.filename);
}
