import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { LocalRegistry } from './local-registry.js';

const run = promisify(execFile);

/** One installed third-party package: what the registry must serve so that npm can install it. */
export interface InstalledPackage {
  readonly name: string;
  readonly version: string;
  readonly dir: string;
  readonly manifest: Record<string, unknown>;
}

/** Node's lookup: `node_modules/<name>` in `from` or the nearest parent that has it. */
function resolveInstalled(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** The edges npm follows when it installs a package: dependencies, optional ones that are installed, required peers. */
function installEdges(manifest: Record<string, unknown>): { name: string; optional: boolean }[] {
  const map = (field: string) => Object.keys((manifest[field] as Record<string, string> | undefined) ?? {});
  const peerMeta = (manifest.peerDependenciesMeta as Record<string, { optional?: boolean }> | undefined) ?? {};
  return [
    ...map('dependencies').map((name) => ({ name, optional: false })),
    ...map('optionalDependencies').map((name) => ({ name, optional: true })),
    ...map('peerDependencies').filter((name) => !peerMeta[name]?.optional).map((name) => ({ name, optional: false })),
  ];
}

/**
 * Every third-party package (not `@xlt/*`) that installing `roots` needs, as installed in this workspace: the
 * closure over dependencies, installed optional dependencies and required peers, by Node's lookup from each
 * package's folder. The workspace lock resolved every range once, so these versions satisfy them all.
 */
export async function dependencyClosure(roots: readonly string[], extra: readonly string[] = []): Promise<InstalledPackage[]> {
  const found = new Map<string, InstalledPackage>();
  const queue: { dir: string; manifest: Record<string, unknown> }[] = [];
  for (const dir of roots) queue.push({ dir, manifest: JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) });
  const wanted = (from: string, name: string, optional: boolean) => {
    if (name.startsWith('@xlt/')) return undefined;
    const dir = resolveInstalled(name, from);
    if (!dir && !optional) throw new Error(`${name} (needed by ${from}) is not installed in the workspace: run npm ci first.`);
    return dir;
  };
  const pending = [...queue.flatMap((q) => installEdges(q.manifest).map((e) => ({ from: q.dir, ...e }))), ...extra.map((name) => ({ from: roots[0]!, name, optional: false }))];
  while (pending.length) {
    const { from, name, optional } = pending.pop()!;
    const dir = wanted(from, name, optional);
    if (!dir) continue;
    const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    const key = `${manifest.name}@${manifest.version}`;
    if (found.has(key)) continue;
    found.set(key, { name: String(manifest.name), version: String(manifest.version), dir, manifest });
    for (const edge of installEdges(manifest)) pending.push({ from: dir, ...edge });
  }
  return [...found.values()].sort((a, b) => (a.name === b.name ? compareVersions(a.version, b.version) : a.name < b.name ? -1 : 1));
}

/** Orders plain `x.y.z[-pre]` versions, enough to publish the newest of one name last (it becomes `latest`). */
function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  const pb = b.split(/[.-]/).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    if (x === undefined) return 1;
    if (y === undefined) return -1;
    return typeof x === 'number' && typeof y === 'number' ? x - y : String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

/**
 * Packs an installed package folder the way npm lays out a tarball (`package/...`), leaving out its nested
 * `node_modules`. The folder holds exactly what its published tarball unpacked to, so npm installs it the same.
 */
async function packInstalled(pkg: InstalledPackage, tmp: string): Promise<Buffer> {
  const file = join(tmp, `${pkg.name.replace('/', '+')}-${pkg.version}.tgz`);
  const parent = dirname(pkg.dir);
  const base = basename(pkg.dir);
  await run('tar', ['-czf', file, '-C', parent, `--exclude=${base}/node_modules`, `--transform=s,^${base.replace(/[.]/g, '\\.')},package,`, base], { maxBuffer: 1 << 20 });
  const bytes = await readFile(file);
  await rm(file);
  return bytes;
}

/**
 * Publishes one tarball through the registry's publish endpoint (what `npm publish` sends: the manifest with its
 * `dist` and the tarball as an attachment), so Verdaccio stores it exactly as a real publish would.
 */
export async function publishTarball(registry: LocalRegistry, manifest: Record<string, unknown>, tarball: Buffer): Promise<void> {
  const name = String(manifest.name);
  const version = String(manifest.version);
  const file = `${name.split('/').pop()}-${version}.tgz`;
  const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
  const shasum = createHash('sha1').update(tarball).digest('hex');
  const body = {
    _id: name,
    name,
    description: manifest.description,
    'dist-tags': { latest: version },
    versions: { [version]: { ...manifest, _id: `${name}@${version}`, dist: { integrity, shasum, tarball: `${registry.url}/${name}/-/${file}` } } },
    access: null,
    _attachments: { [file]: { content_type: 'application/octet-stream', data: tarball.toString('base64'), length: tarball.length } },
  };
  const res = await fetch(`${registry.url}/${name.replace('/', '%2f')}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${registry.token}` },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`seeding ${name}@${version} into ${registry.url} failed: HTTP ${res.status} ${await res.text()}`);
}

/**
 * Seeds the registry with the given installed packages, oldest version of a name first (so the newest is `latest`).
 * Different names go in parallel; versions of one name in order.
 */
export async function seedRegistry(registry: LocalRegistry, packages: readonly InstalledPackage[], tmp: string, parallel = 4): Promise<void> {
  const byName = new Map<string, InstalledPackage[]>();
  for (const p of packages) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
  const names = [...byName.keys()];
  const worker = async () => {
    for (let name = names.shift(); name !== undefined; name = names.shift()) {
      for (const pkg of byName.get(name)!) await publishTarball(registry, pkg.manifest, await packInstalled(pkg, tmp));
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}
