import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { exec, importProblems, packedFiles, repoRoot, workspacePackages, type WorkspacePackage } from './pack.js';
import { tempDir } from '@xlt/core/testing';
import { startLocalRegistry, type LocalRegistry } from './registry/local-registry.js';
import { dependencyClosure, seedRegistry } from './registry/seed-registry.js';

/** Files a tarball may hold besides package.json: the build, the bin shim, README and LICENSE (and native sources). */
function allowedInTarball(pkg: WorkspacePackage, path: string): boolean {
  if (['package.json', 'README.md', 'LICENSE'].includes(path)) return true;
  if (path.startsWith('dist/')) return !/\.spec\.|\.data\.|\.testing\.|tsbuildinfo/.test(path);
  if (pkg.name === '@xlt/core' && path.startsWith('bin/')) return true;
  if (pkg.name === '@xlt/backend-native') return /^(binding\.gyp|native\/|scripts\/)/.test(path);
  return false;
}

describe('publishable packages', () => {
  let packages: WorkspacePackage[];
  beforeAll(async () => {
    packages = await workspacePackages();
  });

  it('each package.json is complete', () => {
    expect(packages.map((p) => p.name)).toEqual(expect.arrayContaining(['@xlt/core', '@xlt/averaging', '@xlt/tasks-nli', '@xlt/tasks-qa', '@xlt/tasks-tagging']));
    for (const { name, manifest } of packages) {
      const m = manifest as Record<string, unknown>;
      for (const field of ['name', 'version', 'description', 'license', 'repository', 'exports', 'files', 'engines']) {
        expect(m[field], `${name}: package.json lacks "${field}"`).toBeDefined();
      }
      const root = (m.exports as Record<string, Record<string, string>>)['.']!;
      expect(root.types, `${name}: exports["."].types`).toMatch(/^\.\/dist\/.*\.d\.ts$/);
      expect(root.import, `${name}: exports["."].import`).toMatch(/^\.\/dist\/.*\.js$/);
      expect((m.engines as Record<string, string>).node).toMatch(/>=\s*20/);
      if (name !== '@xlt/core') expect(manifest.peerDependencies?.['@xlt/core'], `${name}: @xlt/core must be a peer dependency`).toBeDefined();
    }
  });

  it('npm pack lists only built files, README and LICENSE', async () => {
    for (const pkg of packages) {
      const files = await packedFiles(pkg);
      expect(files, `${pkg.name} packs no dist`).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'package.json']));
      expect(files.some((f) => f.startsWith('dist/'))).toBe(true);
      expect(files.filter((f) => !allowedInTarball(pkg, f)), `${pkg.name}: unexpected files in the tarball`).toEqual([]);
    }
  });

  it('built code imports nothing outside its dist and only declared dependencies', async () => {
    for (const pkg of packages) expect(await importProblems(pkg), pkg.name).toEqual([]);
  });
});

describe('packages from a local npm registry, installed as a user installs them', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let registry: LocalRegistry | undefined;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('xlt-registry-'));
    registry = await startLocalRegistry(join(dir, 'registry'));
  });
  afterAll(async () => {
    await registry?.stop();
    await cleanup?.();
  });

  it('publishes every package, installs three into an empty project with plain npm install, and runs a program there', async () => {
    const reg = registry!;
    const packages = await workspacePackages();
    const consumerDeps = ['@xlt/core', '@xlt/tasks-tagging', '@xlt/averaging'];
    // The suite runs without network, so Verdaccio has no uplink: it is seeded with exactly the third-party
    // packages the README's install commands need (inversify and typescript are the consumer's own).
    const third = await dependencyClosure(consumerDeps.map((n) => packages.find((p) => p.name === n)!.dir), ['inversify', 'typescript']);
    await seedRegistry(reg, third, dir);

    const sh = (script: string, cwd: string) =>
      exec('sh', ['-ec', script], { cwd, env: reg.env(), timeout: 600_000, maxBuffer: 64 << 20 }).catch((e: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`${script}\nfailed in ${cwd}: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
      });
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    await sh(readmeCommands(readme, 'publish').replaceAll('http://localhost:4873', reg.url), repoRoot);
    for (const { name, manifest } of packages) {
      const res = await fetch(`${reg.url}/${name.replace('/', '%2f')}`);
      expect(res.status, `${name} was not published`).toBe(200);
      const doc = (await res.json()) as { versions: Record<string, unknown> };
      expect(Object.keys(doc.versions), name).toContain(manifest.version);
    }

    const project = join(dir, 'app');
    await mkdir(join(project, 'src'), { recursive: true });
    await sh(readmeCommands(readme, 'install'), project);
    const lock = await readFile(join(project, 'package-lock.json'), 'utf8');
    expect(lock, 'every package came from the local registry').not.toMatch(/registry\.npmjs\.org/);
    expect(existsSync(join(project, 'node_modules/vitest')), 'vitest is no install dependency').toBe(false);
    for (const name of consumerDeps) {
      const installed = join(project, 'node_modules', name);
      const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8'));
      const pkg = { dir: installed, name, manifest };
      const files = (await listFiles(installed)).filter((f) => !f.startsWith('node_modules/'));
      expect(files.filter((f) => !allowedInTarball(pkg, f)), `${name}: installed files beyond the build, README and LICENSE`).toEqual([]);
      expect(await importProblems(pkg), `${name}: imports of the installed package`).toEqual([]);
    }

    // A third party's own strategy package, published with plain npm publish and found by `xlt plugins`.
    const plugin = join(dir, 'xlt-strategy-first-half');
    await writeThirdPartyPlugin(plugin);
    await sh('npm publish', plugin);
    await sh('npm install xlt-strategy-first-half', project);

    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out', rootDir: 'src', skipLibCheck: true,
          experimentalDecorators: true, emitDecoratorMetadata: true, types: [],
        },
        include: ['src'],
      }),
    );
    await writeFile(join(project, 'src/main.ts'), CONSUMER_SOURCE);
    const { stdout } = await sh(readmeCommands(readme, 'run'), project);
    expect(stdout).toMatch(/^tasks:/m);
    expect(stdout).toMatch(/^ {2}pos +/m);
    expect(stdout).toMatch(/^ {2}ner +/m);
    expect(stdout).toMatch(/^ {2}first-half +my own strategy/m);
    expect(stdout).toMatch(/^ {2}checkpoint-average +/m);
    expect(stdout).toContain('average w = [2,3,4]');
    // `npx xlt plugins` found the published third-party package by its package.json marker.
    expect(stdout).toMatch(/^ {2}second-half +a third party's strategy/m);
  });
});

/** The commands of the README's fenced block marked `<!-- registry-test: <name> -->`, as one script. */
function readmeCommands(readme: string, name: string): string {
  const match = new RegExp(`<!-- registry-test: ${name} -->\\s*\`\`\`bash\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!match) throw new Error(`README.md has no bash block marked <!-- registry-test: ${name} -->`);
  return match[1]!.trim();
}

/** Every file under `dir`, relative, with forward slashes. */
async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else out.push(rel);
  }
  return out;
}

/** A minimal third-party strategy package: plain ESM, `@xlt/core` as a peer, the xlt marker in package.json. */
async function writeThirdPartyPlugin(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({
      name: 'xlt-strategy-first-half', version: '1.0.0', description: 'a third-party xlt strategy', license: 'MIT', type: 'module',
      exports: { '.': './index.js' }, files: ['index.js'], peerDependencies: { '@xlt/core': '0.1.0' }, dependencies: { inversify: '8.2.3' },
      xlt: { module: 'secondHalfModule' },
    }, null, 2),
  );
  await writeFile(
    join(dir, 'index.js'),
    `import { ContainerModule } from 'inversify';
import { AveragingStrategy } from '@xlt/core';
/** Uniform average over the second half of each run's checkpoints. */
class SecondHalf {
  id = 'second-half';
  description = "a third party's strategy: the second half of each run";
  scope = 'per-run';
  oracle = false;
  async plan(runs) {
    const cps = runs[0].checkpoints.slice(Math.floor(runs[0].checkpoints.length / 2));
    return cps.map((checkpoint) => ({ checkpoint, weight: 1 / cps.length }));
  }
}
export const secondHalfModule = new ContainerModule(({ bind }) => { bind(AveragingStrategy).toConstantValue(new SecondHalf()); });
`,
  );
}

/** The consumer's program: composes an engine from three packages plus its own strategy and averages two files. */
const CONSUMER_SOURCE = `
import { ContainerModule } from 'inversify';
import { AveragingStrategy, SafetensorsFile, coreModule, createEngine, listPlugins, writeSafetensors,
  type RunInfo, type WeightedCheckpoint } from '@xlt/core';
import { taggingModule } from '@xlt/tasks-tagging';
import { averageCheckpoints, averagingModule } from '@xlt/averaging';

/** Uniform average over the first half of a run's checkpoints. */
class FirstHalf implements AveragingStrategy {
  readonly id = 'first-half';
  readonly description = 'my own strategy: the first half of each run';
  readonly scope = 'per-run' as const;
  readonly oracle = false;
  async plan(runs: readonly RunInfo[]): Promise<WeightedCheckpoint[]> {
    const cps = runs[0]!.checkpoints.slice(0, Math.max(1, Math.ceil(runs[0]!.checkpoints.length / 2)));
    return cps.map((checkpoint) => ({ checkpoint, weight: 1 / cps.length }));
  }
}
const myModule = new ContainerModule(({ bind }) => { bind(AveragingStrategy).toConstantValue(new FirstHalf()); });

const engine = await createEngine([coreModule, taggingModule, averagingModule, myModule]);
console.log(listPlugins(engine).join('\\n'));

await writeSafetensors('a.safetensors', [{ name: 'w', dtype: 'F32', shape: [3], data: new Float32Array([1, 2, 3]) }]);
await writeSafetensors('b.safetensors', [{ name: 'w', dtype: 'F32', shape: [3], data: new Float32Array([3, 4, 5]) }]);
await writeSafetensors('c.safetensors', [{ name: 'w', dtype: 'F32', shape: [3], data: new Float32Array([100, 100, 100]) }]);
const run: RunInfo = { id: 'r', checkpoints: ['a', 'b', 'c', 'd'].slice(0, 3).map((n, i) => ({ path: n + '.safetensors', run: 'r', step: i + 1 })) };
const plan = await engine.strategies.get('first-half').plan([run], {}, { primaryMetric: 'f1' });
await averageCheckpoints(plan, 'avg.safetensors');
const avg = await SafetensorsFile.open('avg.safetensors');
console.log('average w = ' + JSON.stringify(Array.from(await avg.readFloat32('w'))));
await avg.close();
`;
