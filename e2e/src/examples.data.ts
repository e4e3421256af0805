import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  coreModule,
  loadExperiment,
  loadExperimentData,
  planRuns,
  resolveConfigPath,
  resolveRef,
  selectStrategies,
  type ExperimentConfig,
} from '@xlt/core';
import { createEngine, type Engine } from '@xlt/plugin-api';
import { averagingModule } from '@xlt/averaging';
import { nliModule } from '@xlt/tasks-nli';
import { qaModule } from '@xlt/tasks-qa';
import { taggingModule } from '@xlt/tasks-tagging';
import { repoRoot } from './pack.js';

const examplesDir = join(repoRoot, 'examples');
/** The shared folder as the example configs name it: `../../shared` from `examples/`, i.e. `../shared` beside the clone. */
const sharedDir = resolve(examplesDir, '..', '..', 'shared');

/** Every data file a config names, with the config path that names it, resolved against the config's folder. */
function dataFiles(config: ExperimentConfig, baseDir: string): { path: string; file: string }[] {
  const list = (files: string | readonly string[] | undefined, path: string) =>
    files === undefined ? [] : (typeof files === 'string' ? [files] : files).map((f, i) => ({ path: typeof files === 'string' ? path : `${path}[${i}]`, file: resolveConfigPath(f, baseDir) }));
  return [
    ...list(config.source.train, 'source.train'),
    ...list(config.source.dev, 'source.dev'),
    ...Object.entries(config.targets).flatMap(([lang, t]) => [
      ...list(t.test, `targets.${lang}.test`),
      ...list(t.dev, `targets.${lang}.dev`),
      ...(config.setup.mode === 'few-shot' ? list(t.train, `targets.${lang}.train`) : []),
    ]),
  ];
}

const inShared = (file: string) => file.startsWith(sharedDir + sep);

const names = (await readdir(examplesDir)).filter((f) => f.endsWith('.json')).sort();
/** The configs whose source data is in ../shared (read raw here: validation is a test of its own below). */
const overShared: string[] = [];
for (const name of names) {
  const raw = JSON.parse(await readFile(join(examplesDir, name), 'utf8')) as { source?: { train?: string | string[] } };
  const train = [raw.source?.train ?? []].flat()[0];
  if (train !== undefined && inShared(resolveConfigPath(train, examplesDir))) overShared.push(name);
}

const allPlugins = () => createEngine([coreModule, nliModule, qaModule, taggingModule, averagingModule]);

describe('examples/: every experiment config', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await allPlugins();
  });

  it('is listed in examples/README.md, and every file the README lists exists', async () => {
    const readme = await readFile(join(examplesDir, 'README.md'), 'utf8');
    const listed = [...readme.matchAll(/^\| `([\w.-]+\.json)` \|/gm)].map((m) => m[1]!).sort();
    expect(listed).toEqual(names);
  });

  it.each(names)('%s loads and validates against an engine with every plugin', async (name) => {
    const file = join(examplesDir, name);
    const config = await loadExperiment(file, engine);
    const ref = resolveRef(config.task);
    const task = engine.tasks.get(ref.id);
    if (task.optionsSchema) task.optionsSchema.parse(ref.options);
    const notes: string[] = [];
    const strategies = selectStrategies(config, engine, Object.values(config.targets).some((t) => t.dev !== undefined), (l) => notes.push(l));
    expect(strategies.length, name).toBeGreaterThan(0);
    if (config.strategies) {
      // Every strategy a config lists runs: none is left out (an oracle listed without any target dev data would be).
      expect(notes, name).toEqual([]);
      expect(strategies.map((s) => s.id)).toEqual(config.strategies.map((s) => resolveRef(s).id));
    }
    if (config.setup.mode === 'few-shot') {
      for (const [lang, t] of Object.entries(config.targets)) expect(t.train, `${name}: targets.${lang}.train (few-shot pool)`).toBeDefined();
    }
  });
});

describe('examples/: the small configs over ../shared', () => {
  it('include every small-*.json', () => {
    expect(overShared).toEqual(expect.arrayContaining(names.filter((n) => n.startsWith('small-'))));
  });

  it.each(overShared)('%s: every data file it names exists and reads with its task reader, as xlt run checks before training', async (name) => {
    if (!existsSync(sharedDir)) throw new Error(`${name} reads ../shared, expected at ${sharedDir}; the data suite needs it (see examples/README.md).`);
    const engine = await allPlugins();
    const file = join(examplesDir, name);
    const baseDir = dirname(file);
    const config = await loadExperiment(file, engine);
    const files = dataFiles(config, baseDir);
    expect(files.filter((f) => !inShared(f.file)).map((f) => f.path), `${name}: data outside ${sharedDir}`).toEqual([]);
    const missing = files.filter((f) => !existsSync(f.file)).map((f) => `${f.path}: ${f.file}`);
    expect(missing, `${name} names data files that do not exist`).toEqual([]);
    const model = resolveConfigPath(config.model, baseDir);
    // The small configs use the tiny model in ../shared; xlmr-base-ner's model is a user's own folder.
    if (inShared(model)) expect(existsSync(join(model, 'config.json')), `${name}: model ${model}`).toBe(true);

    const ref = resolveRef(config.task);
    const task = engine.tasks.get(ref.id);
    const taskOptions = (task.optionsSchema ? task.optionsSchema.parse(ref.options) : ref.options) as Record<string, unknown>;
    // The runner's own pre-training validation: every file read with the task's reader, all problems at once.
    const data = await loadExperimentData(config, task, taskOptions, baseDir, file);
    expect(data.train.length).toBeGreaterThan(0);
    const cap = config.training.maxTrainExamples;
    if (cap !== undefined) expect(data.train.length).toBeLessThanOrEqual(cap);
    if (config.source.dev !== undefined) expect(data.dev?.length).toBeGreaterThan(0);
    expect(data.targets.map((t) => t.language)).toEqual(Object.keys(config.targets));
    for (const t of data.targets) {
      expect(t.test.length, `${name} ${t.language} test`).toBeGreaterThan(0);
      if (config.targets[t.language]!.dev !== undefined) expect(t.dev?.length, `${name} ${t.language} dev`).toBeGreaterThan(0);
      if (config.setup.mode === 'few-shot') expect(t.shots, `${name} ${t.language} shots`).toHaveLength(config.setup.shots);
    }
    expect(planRuns(config, data).filter((r) => r.evaluated).length).toBeGreaterThan(0);
  });
});
