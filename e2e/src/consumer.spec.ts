import { mkdir, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { exec, importProblems, pack, packedFiles, repoRoot, workspacePackages, type WorkspacePackage } from './pack.js';
import { tempDir } from '@xlt/core/testing';

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

describe('consumer project from tarballs, offline', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('xlt-consumer-'));
  });
  afterAll(async () => cleanup?.());

  it('installs core, tagging and averaging, type-checks a composition with a custom strategy, and runs it', async () => {
    const packages = await workspacePackages();
    const wanted = ['@xlt/core', '@xlt/tasks-tagging', '@xlt/averaging'];
    const tarballs = await mkdir(join(dir, 'tarballs'), { recursive: true }).then(() => join(dir, 'tarballs'));
    const deps: Record<string, string> = {};
    for (const name of wanted) deps[name] = `file:${await pack(packages.find((p) => p.name === name)!, tarballs)}`;
    // what the consumer's own code imports directly
    const rootManifest = JSON.parse(await readFile(join(repoRoot, 'packages/core/package.json'), 'utf8'));
    deps.inversify = rootManifest.dependencies.inversify;
    const project = join(dir, 'app');
    await mkdir(join(project, 'src'), { recursive: true });
    // Pin every transitive dependency to the version the workspace lock holds, which `npm ci` put in the cache:
    // the install must work with no network.
    const lock = JSON.parse(await readFile(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; link?: boolean }> };
    const overrides: Record<string, string> = {};
    for (const [path, entry] of Object.entries(lock.packages)) {
      const name = path.replace(/^.*node_modules\//, '');
      if (path.startsWith('node_modules/') && !path.includes('/node_modules/', 'node_modules/'.length) && entry.version && !entry.link && !name.startsWith('@xlt/')) {
        overrides[name] = entry.version;
      }
    }
    for (const name of Object.keys(deps)) delete overrides[name];
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: deps, overrides }, null, 2));
    await exec('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: project, timeout: 300_000 });

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
    const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
    await exec(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project }).catch((e) => {
      throw new Error(`type-check failed:\n${e.stdout}${e.stderr}`);
    });
    const { stdout } = await exec(process.execPath, ['out/main.js'], { cwd: project });
    expect(stdout).toMatch(/^tasks:/m);
    expect(stdout).toMatch(/^ {2}pos +/m);
    expect(stdout).toMatch(/^ {2}ner +/m);
    expect(stdout).toMatch(/^ {2}first-half +my own strategy/m);
    expect(stdout).toMatch(/^ {2}checkpoint-average +/m);
    expect(stdout).toContain('average w = [2,3,4]');
  });
});

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
