import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { exec, importProblems, packedFiles, repoRoot, workspacePackages, type WorkspacePackage } from './pack.js';
import { tempDir } from '@xlt/plugin-api/testing';
import { startLocalRegistry, type LocalRegistry } from './registry/local-registry.js';
import { dependencyClosure, seedRegistry } from './registry/seed-registry.js';

/** Packages a strategy author must not get with `npm install @xlt/plugin-api @xlt/averaging`: the TF.js runtime, HF tokenizers' binaries, plotly. */
const HEAVY = /^(@tensorflow\/tfjs.*|tokenizers(-.*)?|plotly\.js-dist-min)$/;
/** The most a strategy author's `node_modules` may weigh after `npm install @xlt/plugin-api @xlt/averaging` (issue #15). */
const STRATEGY_AUTHOR_BUDGET_BYTES = 25_000_000;

/** Files a tarball may hold besides package.json: the build, the bin shim, README and LICENSE (and native sources). */
function allowedInTarball(pkg: WorkspacePackage, path: string): boolean {
  if (['package.json', 'README.md', 'LICENSE'].includes(path)) return true;
  if (path.startsWith('dist/')) return !/\.spec\.|\.data\.|\.testing\.|tsbuildinfo/.test(path);
  if (pkg.name === '@xlt/core' && path.startsWith('bin/')) return true;
  if (pkg.name === '@xlt/backend-native') return /^(binding\.gyp|native\/|scripts\/)/.test(path);
  // The PyTorch reference of the backend conformance suite, which a backend author runs in their own tests.
  if (pkg.name === '@xlt/plugin-api') return path === 'reference/backend_reference.py';
  return false;
}

describe('publishable packages', () => {
  let packages: WorkspacePackage[];
  beforeAll(async () => {
    packages = await workspacePackages();
  });

  it('each package.json is complete', () => {
    expect(packages.map((p) => p.name)).toEqual(
      expect.arrayContaining(['@xlt/plugin-api', '@xlt/core', '@xlt/averaging', '@xlt/tasks-nli', '@xlt/tasks-qa', '@xlt/tasks-tagging']),
    );
    for (const { name, manifest } of packages) {
      const m = manifest as Record<string, unknown>;
      for (const field of ['name', 'version', 'description', 'license', 'repository', 'exports', 'files', 'engines']) {
        expect(m[field], `${name}: package.json lacks "${field}"`).toBeDefined();
      }
      const root = (m.exports as Record<string, Record<string, string>>)['.']!;
      expect(root.types, `${name}: exports["."].types`).toMatch(/^\.\/dist\/.*\.d\.ts$/);
      expect(root.import, `${name}: exports["."].import`).toMatch(/^\.\/dist\/.*\.js$/);
      expect((m.engines as Record<string, string>).node).toMatch(/>=\s*20/);
      if (name === '@xlt/plugin-api') {
        // The bottom layer: no @xlt package at all, and TF.js only as an optional peer (types of task heads).
        const all = { ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.optionalDependencies };
        expect(Object.keys(all).filter((d) => d.startsWith('@xlt/')), `${name} depends on no @xlt package`).toEqual([]);
        expect(Object.keys(all).filter((d) => HEAVY.test(d)), `${name}: heavy runtime dependencies`).toEqual(
          Object.keys(manifest.peerDependencies ?? {}).filter((d) => HEAVY.test(d)),
        );
        const meta = (m.peerDependenciesMeta ?? {}) as Record<string, { optional?: boolean }>;
        for (const peer of Object.keys(manifest.peerDependencies ?? {})) expect(meta[peer]?.optional, `${name}: peer ${peer} is optional`).toBe(true);
        continue;
      }
      expect(manifest.peerDependencies?.['@xlt/plugin-api'], `${name}: @xlt/plugin-api must be a peer dependency`).toBeDefined();
      if (name !== '@xlt/core') {
        const runtime = { ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.optionalDependencies };
        expect(runtime['@xlt/core'], `${name}: a plugin depends on @xlt/plugin-api, never on @xlt/core`).toBeUndefined();
      }
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
  let packages: WorkspacePackage[];
  let readme: string;
  /** Runs a shell script with npm pointed at the local registry; `env` overrides (e.g. an npm cache of its own). */
  const sh = (script: string, cwd: string, env: NodeJS.ProcessEnv = {}) =>
    exec('sh', ['-ec', script], { cwd, env: registry!.env(env), timeout: 600_000, maxBuffer: 64 << 20 }).catch(
      (e: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`${script}\nfailed in ${cwd}: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
      },
    );

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('xlt-registry-'));
    registry = await startLocalRegistry(join(dir, 'registry'));
    packages = await workspacePackages();
    // The suite runs without network, so Verdaccio has no uplink: it is seeded with exactly the third-party
    // packages the README's install commands and the strategy author's install need (inversify and typescript
    // are the consumer's own; the plugin API's closure is a subset of core's, listed so that it never depends on that).
    const roots = [...CONSUMER_DEPS, ...STRATEGY_AUTHOR_DEPS].map((n) => packages.find((p) => p.name === n)!.dir);
    const third = await dependencyClosure([...new Set(roots)], ['inversify', 'typescript']);
    await seedRegistry(registry, third, dir);
    readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    await sh(readmeCommands(readme, 'publish').replaceAll('http://localhost:4873', registry.url), repoRoot);
  }, 600_000);
  afterAll(async () => {
    await registry?.stop();
    await cleanup?.();
  });

  it('publishes every package with the README command', async () => {
    for (const { name, manifest } of packages) {
      const res = await fetch(`${registry!.url}/${name.replace('/', '%2f')}`);
      expect(res.status, `${name} was not published`).toBe(200);
      const doc = (await res.json()) as { versions: Record<string, unknown> };
      expect(Object.keys(doc.versions), name).toContain(manifest.version);
    }
  });

  it('a strategy author installs @xlt/plugin-api and @xlt/averaging (under 25 MB, no TF.js, tokenizers or plotly) and runs the conformance suite there', async () => {
    const project = join(dir, 'strategy-author');
    await mkdir(join(project, 'src'), { recursive: true });
    // An empty npm cache of its own, so that nothing the other installs fetched is reused.
    const own = { npm_config_cache: join(dir, 'strategy-author-npm-cache') };
    await sh(`npm init -y && npm pkg set type=module && npm install ${STRATEGY_AUTHOR_DEPS.join(' ')}`, project, own);
    const lock = await readFile(join(project, 'package-lock.json'), 'utf8');
    expect(lock, 'every package came from the local registry').not.toMatch(/registry\.npmjs\.org/);

    const nodeModules = join(project, 'node_modules');
    const installed = await installedPackages(nodeModules);
    const bytes = Number((await exec('du', ['-sb', nodeModules])).stdout.split(/\s/)[0]);
    const sizes = await Promise.all(installed.map(async (p) => ({ ...p, bytes: Number((await exec('du', ['-sb', '--exclude=node_modules', p.dir])).stdout.split(/\s/)[0]) })));
    console.log(
      `npm install ${STRATEGY_AUTHOR_DEPS.join(' ')}: node_modules is ${bytes} bytes (${(bytes / 1e6).toFixed(2)} MB), ${installed.length} packages:\n` +
        sizes
          .sort((a, b) => b.bytes - a.bytes)
          .map((p) => `  ${`${p.name}@${p.version}`.padEnd(44)} ${(p.bytes / 1e6).toFixed(2).padStart(6)} MB`)
          .join('\n'),
    );
    expect(bytes, `node_modules of ${STRATEGY_AUTHOR_DEPS.join(' + ')}`).toBeGreaterThan(0);
    expect(bytes, `node_modules of ${STRATEGY_AUTHOR_DEPS.join(' + ')} in bytes`).toBeLessThan(STRATEGY_AUTHOR_BUDGET_BYTES);
    const names = installed.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining([...STRATEGY_AUTHOR_DEPS, 'zod', 'inversify']));
    expect(names.filter((n) => HEAVY.test(n)), 'TF.js, tokenizers or plotly in the strategy author node_modules').toEqual([]);
    expect(names.filter((n) => n.startsWith('@xlt/')).sort(), 'only the two packages asked for').toEqual([...STRATEGY_AUTHOR_DEPS].sort());

    // The author's strategy, in TypeScript, typed against the installed plugin API, with zod (already installed,
    // as the plugin API's own dependency: the same version adds nothing) for its options. The conformance suite
    // runs under Node's own test runner: no test runner is an install dependency of xlt.
    const zod = (await readJson(join(nodeModules, 'zod', 'package.json'))).version as string;
    const typescript = (await readJson(join(repoRoot, 'node_modules', 'typescript', 'package.json'))).version as string;
    await sh(`npm install zod@${zod} && npm install --save-dev typescript@${typescript}`, project, own);
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out', rootDir: 'src', skipLibCheck: true, types: [] },
        include: ['src'],
      }),
    );
    await writeFile(join(project, 'src/first-half.ts'), AUTHOR_STRATEGY_SOURCE);
    await writeFile(join(project, 'conformance.test.mjs'), AUTHOR_CONFORMANCE_SOURCE);
    const strategySource = await readFile(join(project, 'src/first-half.ts'), 'utf8');
    expect([...strategySource.matchAll(/from '(@xlt\/[^']+)'/g)].map((m) => m[1]), 'xlt imports of the strategy').toEqual(['@xlt/plugin-api']);
    await sh('npx tsc -p tsconfig.json', project, own);

    const test = 'node --test-reporter=tap --test conformance.test.mjs';
    const { stdout } = await sh(test, project, own);
    const summary = (out: string) => ({ pass: Number(/^# pass (\d+)/m.exec(out)?.[1]), fail: Number(/^# fail (\d+)/m.exec(out)?.[1]) });
    expect(stdout).toContain('averaging strategy conformance: first-half');
    expect(summary(stdout), stdout).toEqual({ pass: CONFORMANCE_TESTS, fail: 0 });
    // The same runner fails a strategy whose weights sum to 1/2: its assertions can fail.
    const broken = await exec('sh', ['-c', test], { cwd: project, env: registry!.env({ ...own, BROKEN_STRATEGY: '1' }) }).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code?: number; stdout?: string }) => ({ code: e.code ?? -1, out: e.stdout ?? '' }),
    );
    expect(broken.code, broken.out).not.toBe(0);
    expect(broken.out).toMatch(/^\s*not ok \d+ - plans weights that are positive and sum to 1/m);
    expect(summary(broken.out).fail, broken.out).toBeGreaterThan(0);
  });

  it('installs the README packages into an empty project with plain npm install, and runs a program there', async () => {
    const project = join(dir, 'app');
    await mkdir(join(project, 'src'), { recursive: true });
    await sh(readmeCommands(readme, 'install'), project);
    const lock = await readFile(join(project, 'package-lock.json'), 'utf8');
    expect(lock, 'every package came from the local registry').not.toMatch(/registry\.npmjs\.org/);
    expect(existsSync(join(project, 'node_modules/vitest')), 'vitest is no install dependency').toBe(false);
    for (const name of CONSUMER_DEPS) {
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
    const apiCopies = (await installedPackages(join(project, 'node_modules'))).filter((p) => p.name === '@xlt/plugin-api');
    expect(apiCopies.map((p) => p.dir), 'one copy of the plugin API, shared by core and every plugin').toEqual([join(project, 'node_modules/@xlt/plugin-api')]);

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

/** What the README's install block installs (and the registry test checks file by file). */
const CONSUMER_DEPS = ['@xlt/plugin-api', '@xlt/core', '@xlt/tasks-tagging', '@xlt/averaging'];
/** What a strategy author installs to write and test a strategy (issue #15). */
const STRATEGY_AUTHOR_DEPS = ['@xlt/plugin-api', '@xlt/averaging'];
/** The tests `runStrategyConformance` registers. */
const CONFORMANCE_TESTS = 6;

async function readJson(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
}

/** Every package installed under `nodeModules`, nested ones included: name, version and folder. */
async function installedPackages(nodeModules: string): Promise<{ name: string; version: string; dir: string }[]> {
  const out: { name: string; version: string; dir: string }[] = [];
  if (!existsSync(nodeModules)) return out;
  for (const e of await readdir(nodeModules, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    const dirs = e.name.startsWith('@')
      ? (await readdir(join(nodeModules, e.name), { withFileTypes: true })).filter((s) => s.isDirectory()).map((s) => join(nodeModules, e.name, s.name))
      : [join(nodeModules, e.name)];
    for (const dir of dirs) {
      if (!existsSync(join(dir, 'package.json'))) continue;
      const manifest = await readJson(join(dir, 'package.json'));
      out.push({ name: String(manifest.name), version: String(manifest.version), dir });
      out.push(...(await installedPackages(join(dir, 'node_modules'))));
    }
  }
  return out;
}

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

/** A minimal third-party strategy package: plain ESM, `@xlt/plugin-api` as a peer, the xlt marker in package.json. */
async function writeThirdPartyPlugin(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({
      name: 'xlt-strategy-first-half', version: '1.0.0', description: 'a third-party xlt strategy', license: 'MIT', type: 'module',
      exports: { '.': './index.js' }, files: ['index.js'], peerDependencies: { '@xlt/plugin-api': '0.1.0' }, dependencies: { inversify: '8.2.3' },
      xlt: { module: 'secondHalfModule' },
    }, null, 2),
  );
  await writeFile(
    join(dir, 'index.js'),
    `import { ContainerModule } from 'inversify';
import { AveragingStrategy } from '@xlt/plugin-api';
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
import { AveragingStrategy, SafetensorsFile, createEngine, writeSafetensors, type RunInfo, type WeightedCheckpoint } from '@xlt/plugin-api';
import { coreModule, listPlugins } from '@xlt/core';
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

/**
 * The strategy author's own strategy (issue #15): TypeScript against the installed `@xlt/plugin-api` only (zod for
 * its options schema, the plugin API's own dependency), compiled with tsc in that project.
 */
const AUTHOR_STRATEGY_SOURCE = `import { XltError, type AveragingStrategy, type RunInfo, type WeightedCheckpoint } from '@xlt/plugin-api';
import { z } from 'zod';

const schema = z.strictObject({ fraction: z.number().gt(0).lte(1).default(0.5) });
export type FirstHalfOptions = z.infer<typeof schema>;

/** The uniform mean of the first \`fraction\` of a run's checkpoints. */
export class FirstHalfStrategy implements AveragingStrategy<FirstHalfOptions> {
  readonly id = 'first-half';
  readonly description = 'my own strategy: the uniform mean of the first half of each run';
  readonly scope = 'per-run' as const;
  readonly oracle = false;
  readonly optionsSchema = schema;

  async plan(runs: readonly RunInfo[], options: FirstHalfOptions): Promise<WeightedCheckpoint[]> {
    if (runs.length !== 1) throw new XltError(\`first-half plans one run at a time, got \${runs.length}\`);
    const checkpoints = runs[0]!.checkpoints;
    if (checkpoints.length === 0) throw new XltError(\`run \${runs[0]!.id} has no checkpoints\`);
    const chosen = checkpoints.slice(0, Math.max(1, Math.ceil(checkpoints.length * options.fraction)));
    return chosen.map((checkpoint) => ({ checkpoint, weight: 1 / chosen.length }));
  }
}
`;

/**
 * Runs `runStrategyConformance` on the author's strategy under Node's own test runner (`node --test`), through a
 * small `TestApi` whose `expect` is built on `node:assert`. With `BROKEN_STRATEGY=1` it runs the suite on a
 * strategy whose weights sum to 1/2 instead, which must fail.
 */
const AUTHOR_CONFORMANCE_SOURCE = `import { before, describe, it } from 'node:test';
import { AssertionError } from 'node:assert';
import { inspect, isDeepStrictEqual } from 'node:util';
import { runStrategyConformance } from '@xlt/plugin-api/testing';
import { FirstHalfStrategy } from './out/first-half.js';

function matches(error, expected) {
  if (expected === undefined) return true;
  if (typeof expected === 'string') return String(error?.message ?? error).includes(expected);
  if (expected instanceof RegExp) return expected.test(String(error?.message ?? error));
  return error instanceof expected;
}

function expect(actual, message) {
  const make = (negate) => {
    const check = (ok, what) => {
      if (Boolean(ok) === negate) {
        throw new AssertionError({ message: \`\${message ? message + ': ' : ''}expected \${inspect(actual)} \${negate ? 'not ' : ''}\${what}\` });
      }
    };
    const thrown = () => {
      try {
        actual();
      } catch (error) {
        return { error };
      }
      return undefined;
    };
    return {
      toBe: (e) => check(Object.is(actual, e), \`to be \${inspect(e)}\`),
      toEqual: (e) => check(isDeepStrictEqual(actual, e), \`to equal \${inspect(e)}\`),
      toBeCloseTo: (e, digits = 2) => check(Math.abs(actual - e) < 10 ** -digits / 2, \`to be close to \${e}\`),
      toBeDefined: () => check(actual !== undefined, 'to be defined'),
      toBeGreaterThan: (e) => check(actual > e, \`to be > \${e}\`),
      toBeGreaterThanOrEqual: (e) => check(actual >= e, \`to be >= \${e}\`),
      toBeLessThan: (e) => check(actual < e, \`to be < \${e}\`),
      toBeLessThanOrEqual: (e) => check(actual <= e, \`to be <= \${e}\`),
      toBeInstanceOf: (e) => check(actual instanceof e, \`to be an instance of \${e.name}\`),
      toContain: (e) => check(typeof actual === 'string' ? actual.includes(e) : [...actual].includes(e), \`to contain \${inspect(e)}\`),
      toMatch: (e) => check(typeof e === 'string' ? String(actual).includes(e) : e.test(String(actual)), \`to match \${e}\`),
      toThrow: (e) => {
        const t = thrown();
        check(t !== undefined && matches(t.error, e), \`to throw \${e ?? ''}\`);
      },
      get not() {
        return make(!negate);
      },
      rejects: {
        toThrow: async (e) => {
          let t;
          try {
            await actual;
          } catch (error) {
            t = { error };
          }
          check(t !== undefined && matches(t.error, e), \`to reject with \${e ?? 'an error'}\`);
        },
      },
    };
  };
  return make(false);
}

class HalfWeights extends FirstHalfStrategy {
  async plan(...args) {
    return (await super.plan(...args)).map((p) => ({ ...p, weight: p.weight / 2 }));
  }
}

const strategy = process.env.BROKEN_STRATEGY ? new HalfWeights() : new FirstHalfStrategy();
runStrategyConformance(strategy, {
  runner: { describe, it: (name, body) => it(name, () => body()), beforeAll: before, expect },
  options: { fraction: 0.5 },
  invalidOptions: [{ fraction: 0 }, { fraction: 1.5 }, { fraction: 'half' }],
});
`;
