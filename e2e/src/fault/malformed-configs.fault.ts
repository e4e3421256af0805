/**
 * Generated malformed experiment configs (issue #20). A valid JSON and a valid YAML config are mutated — bytes and
 * lines at random, fields dropped, renamed and retyped, every number set to an edge value, unknown keys added, YAML
 * broken on purpose — and loaded with the real engine (core, every task and every strategy). The loader must resolve
 * the config or throw an XltError naming the file; a schema problem must also name the JSON path of the bad value.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { averagingModule } from '@xlt/averaging';
import { coreModule, loadExperiment, validateExperiment } from '@xlt/core';
import { createEngine, formatPath, InputError, parseLocated, type Engine } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { nliModule } from '@xlt/tasks-nli';
import { qaModule } from '@xlt/tasks-qa';
import { taggingModule } from '@xlt/tasks-tagging';
import { mutants, outcomeOf, reportFailures, showMutant, SLOW_MS, uncleanRejection } from './malformed-mutations.js';

type Overrides = Parameters<typeof validateExperiment>[2];

/** Uses every section of the schema and plugin options of a task and two strategies, so mutations reach them all. */
const BASE = {
  name: 'fault-ner',
  task: { id: 'ner', options: { languagePrefix: 'auto' } },
  model: 'models/tiny',
  backend: 'auto',
  source: { language: 'en', train: 'data/en-train.tsv', dev: 'data/en-dev.tsv' },
  targets: { sw: { test: 'data/sw-test.tsv', dev: 'data/sw-dev.tsv' }, yo: { test: ['data/yo-a.tsv', 'data/yo-b.tsv'] } },
  grid: { learningRate: [2e-5, 3e-5], batchSize: [8], epochs: [1], schedule: ['linear'], warmup: [0.1], seeds: [1, 2] },
  training: {
    maxLength: 64,
    weightDecay: 0.01,
    maxGradNorm: 1,
    gradientAccumulation: 1,
    maxTrainExamples: 100,
    maxEvalExamples: 50,
    evalBatchSize: 16,
    head: { protocol: 'shared-frozen', seed: 0, epochs: 1, learningRate: 0.001, batchSize: 8 },
  },
  checkpoints: { everySteps: 10, perEpoch: 2 },
  strategies: ['last', { id: 'checkpoint-average', name: 'ca-last2', options: { lastK: 2 } }, { id: 'ema', options: { decay: 0.5 } }, 'run-average'],
  runGroups: 'seeds',
  sinks: ['json', 'csv'],
  output: 'out',
};

/** The same experiment in block YAML with comments, an anchor and an alias: what a person writes by hand. */
const BASE_YAML = `# few-shot NER, written by hand
name: fault-ner-yaml
task: { id: ner, options: { languagePrefix: auto } }
model: models/tiny
source:
  language: en
  train: data/en-train.tsv
  dev: &endev data/en-dev.tsv
targets:
  sw:
    test: data/sw-test.tsv
    dev: *endev
    train: data/sw-train.tsv
setup:
  mode: few-shot
  shots: 10
  seed: 3
grid:
  learningRate: [2.0e-5, 3.0e-5]
  batchSize: [8]
  seeds: [1, 2]
training:
  maxLength: 64
  head:
    protocol: per-run
    epochs: 1
strategies:
  - last
  - id: checkpoint-average
    options:
      lastK: 2
`;

/** Values no numeric field accepts, as the text that puts them in the file (JSON is read as YAML, so both work). */
const ALWAYS_BAD = ['"abc"', 'null', 'true', '[]', '{}', '-1', '1e309', '-1e309', '.nan', '.inf', '"1"'];
/** Values some numeric fields accept (a zero seed, a 1.5 learning rate, a huge count): resolve or reject cleanly. */
const EDGE = ['0', '1.5', '1e300', '9007199254740993', '-0'];

/** The JSON path of every number in `value`. */
function numberPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value === 'number') return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => numberPaths(v, [...path, i]));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => numberPaths(v, [...path, k]));
  return [];
}

/** The JSON path of every object in `value` (where an unknown key can go). */
function objectPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => objectPaths(v, [...path, i]));
  if (value !== null && typeof value === 'object') return [path, ...Object.entries(value).flatMap(([k, v]) => objectPaths(v, [...path, k]))];
  return [];
}

/** `BASE` as JSON text with the value at `path` replaced by the raw text `raw` (which may be no JSON at all). */
function jsonWith(path: readonly (string | number)[], raw: string): string {
  const copy = structuredClone(BASE) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = '\u0000HOLE\u0000';
  return JSON.stringify(copy, null, 2).replace('"\\u0000HOLE\\u0000"', raw);
}

let engine: Engine;
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  engine = await createEngine([coreModule, nliModule, qaModule, taggingModule, averagingModule]);
  ({ dir, cleanup } = await tempDir('xlt-malformed-configs-'));
});
afterAll(() => cleanup?.());

/** Loads `text` from `file`; returns why the outcome is not clean, or undefined. `rejections` counts rejections. */
let rejections = 0;
async function check(file: string, text: string | Buffer, expectPath?: string, mustReject = false): Promise<string | undefined> {
  await writeFile(file, text);
  const outcome = await outcomeOf(() => loadExperiment(file, engine, []));
  if (!outcome.ok) rejections++;
  if (outcome.ms > SLOW_MS) return `took ${Math.round(outcome.ms)} ms`;
  if (outcome.ok) return mustReject ? `resolved, though the value is invalid: ${JSON.stringify(outcome.value).slice(0, 200)}` : undefined;
  const unclean = uncleanRejection(outcome.error, file);
  if (unclean) return unclean;
  if (expectPath !== undefined) {
    const issues = (outcome.error as InputError).issues ?? [];
    const named = issues.some((i) => i.path !== undefined && (i.path === expectPath || expectPath.startsWith(`${i.path}.`) || expectPath.startsWith(`${i.path}[`)));
    if (!named) return `rejected without naming ${expectPath}: ${(outcome.error as Error).message}`;
  }
  return undefined;
}

describe('experiment config loader under malformed configs', () => {
  it('loads both valid configs', async () => {
    await writeFile(join(dir, 'base.json'), JSON.stringify(BASE, null, 2));
    await writeFile(join(dir, 'base.yaml'), BASE_YAML);
    expect((await loadExperiment(join(dir, 'base.json'), engine, [])).strategies).toHaveLength(4);
    expect((await loadExperiment(join(dir, 'base.yaml'), engine, [])).setup).toMatchObject({ mode: 'few-shot', shots: 10 });
  });

  it('rejects every invalid number and names its path; edge numbers resolve or are rejected by path', async () => {
    const file = join(dir, 'numbers.json');
    const failures: string[] = [];
    for (const path of numberPaths(BASE)) {
      for (const raw of [...ALWAYS_BAD, ...EDGE]) {
        const text = jsonWith(path, raw);
        const problem = await check(file, text, formatPath(path), ALWAYS_BAD.includes(raw));
        if (problem) failures.push(`${formatPath(path)} = ${raw}\n  → ${problem}`);
      }
    }
    reportFailures('numbers', failures);
  });

  it('rejects each missing required key and each unknown key, naming it', async () => {
    const file = join(dir, 'keys.json');
    const failures: string[] = [];
    for (const key of ['name', 'task', 'model', 'source', 'targets']) {
      const { [key]: _gone, ...rest } = BASE as Record<string, unknown>;
      const problem = await check(file, JSON.stringify(rest, null, 2), key, true);
      if (problem) failures.push(`without ${key}\n  → ${problem}`);
    }
    for (const path of objectPaths(BASE)) {
      // Free-form maps take any key: targets (by language) and plugin options (checked by the plugin, strictly).
      if (formatPath(path) === 'targets') continue;
      const copy = structuredClone(BASE) as Record<string | number, unknown>;
      let node = copy;
      for (const key of path) node = node[key] as Record<string | number, unknown>;
      node['learningrate'] = 1;
      const where = formatPath([...path, 'learningrate']);
      const problem = await check(file, JSON.stringify(copy, null, 2), where, true);
      if (problem) failures.push(`unknown key ${where}\n  → ${problem}`);
    }
    reportFailures('keys', failures);
  });

  it.each([
    ['JSON', 'gen.json', JSON.stringify(BASE, null, 2), 'json'],
    ['YAML', 'gen.yaml', BASE_YAML, 'text'],
  ] as const)('resolves or cleanly rejects 200 seeded mutants of the %s config', async (_name, name, valid, kind) => {
    const file = join(dir, name);
    const failures: string[] = [];
    const before = rejections;
    for (const m of mutants(Buffer.from(valid), 200, kind)) {
      const problem = await check(file, m.bytes);
      if (problem) failures.push(`${showMutant(m)}\n  → ${problem}`);
    }
    reportFailures(`${name} mutants`, failures);
    // Guards the generator: mutants that all load would prove nothing.
    expect(rejections - before).toBeGreaterThan(50);
  });

  it.each([
    ['duplicate key', BASE_YAML + 'name: again\n'],
    ['tab indentation', BASE_YAML.replace('  language: en', '\tlanguage: en')],
    ['unclosed flow mapping', BASE_YAML.replace('languagePrefix: auto } }', 'languagePrefix: auto }')],
    ['alias to an unknown anchor', BASE_YAML.replace('dev: *endev', 'dev: *nowhere')],
    ['alias bomb', `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n${BASE_YAML}`],
    ['merge key into a scalar', BASE_YAML.replace('  shots: 10', '  <<: *endev\n  shots: 10')],
    ['two documents', `${BASE_YAML}---\nname: second\n`],
    ['a list at the top', `- ${JSON.stringify(BASE)}\n`],
    ['a bare scalar', 'fault-ner\n'],
    ['an unknown tag', BASE_YAML.replace('model: models/tiny', 'model: !python/object models/tiny')],
    ['a binary tag on a number', BASE_YAML.replace('maxLength: 64', 'maxLength: !!binary NjQ=')],
    ['JSON with a trailing comma', JSON.stringify(BASE, null, 2).replace(/\n}$/, ',\n}')],
    ['JSON with comments', `// experiment\n${JSON.stringify(BASE, null, 2)}`],
    ['a byte-order mark', `\uFEFF${BASE_YAML}`],
    ['a NUL byte', BASE_YAML.replace('fault-ner-yaml', 'fault\u0000ner')],
  ])('YAML breakage: %s resolves or is a clean error naming the file', async (name, text) => {
    const file = join(dir, 'hand.yaml');
    const problem = await check(file, text);
    if (problem) throw new Error(`${name}: ${problem}\n  input: ${JSON.stringify(String(text)).slice(0, 600)}`);
  });

  // The data readers refuse bytes that are not UTF-8; a config must too, or they turn into U+FFFD in paths and names.
  it('rejects a config that is not UTF-8', async () => {
    const [head, tail] = BASE_YAML.split('fault-ner-yaml') as [string, string];
    const text = Buffer.concat([Buffer.from(head), Buffer.from([0x66, 0xff, 0xfe, 0x61]), Buffer.from(tail)]);
    const problem = await check(join(dir, 'latin.yaml'), text, undefined, true);
    if (problem) throw new Error(`invalid UTF-8 in "name": ${problem}`);
  });

  // The name becomes a folder (xlt-runs/<name>: a NUL crashes `xlt plan` with a TypeError) and a line of the SLURM
  // scripts (#SBATCH --job-name=xlt-<name>: a newline starts a shell command in them).
  it.each(['fault\u0000ner', 'fault\nner', 'fault\rner'])('rejects the experiment name %j at path "name"', async (name) => {
    const problem = await check(join(dir, 'name.json'), JSON.stringify({ ...BASE, name }, null, 2), 'name', true);
    if (problem) throw new Error(`name ${JSON.stringify(name)}: ${problem}`);
  });

  it('names the --set that put a bad value in, not the file', async () => {
    const doc = parseLocated(JSON.stringify(BASE, null, 2), 'exp.json');
    const failures: string[] = [];
    for (const path of numberPaths(BASE)) {
      for (const raw of ['-1', '"abc"', 'null', '.nan', '[1, [2]]']) {
        const text = `${formatPath(path)}=${raw}`;
        const value = parseLocated(raw, 'value').value;
        const overrides: Overrides = [{ text, path, value }];
        const outcome = await outcomeOf(() => validateExperiment(doc, engine, overrides));
        const problem = outcome.ok ? 'resolved, though the value is invalid' : uncleanRejection(outcome.error, `--set ${text}`);
        if (problem) failures.push(`--set ${text}\n  → ${problem}`);
      }
    }
    // A path through a scalar or past the end of a list: the override itself is wrong.
    for (const text of ['grid.seeds.first=1', 'grid.seeds[9]=1', 'name.x=1', 'strategies[0].options=1', 'targets[0]=1']) {
      const eq = text.indexOf('=');
      const path = text.slice(0, eq).split(/\.|\[(\d+)\]/).filter((s) => s !== undefined && s !== '').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
      const outcome = await outcomeOf(() => validateExperiment(doc, engine, [{ text, path, value: 1 }]));
      const problem = outcome.ok ? 'resolved' : uncleanRejection(outcome.error, `--set ${text}`);
      if (problem) failures.push(`--set ${text}\n  → ${problem}`);
    }
    reportFailures('--set', failures);
  });
});
