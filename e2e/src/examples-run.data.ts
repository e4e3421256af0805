import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedPath, tempDir } from '@xlt/plugin-api/testing';
import { repoRoot } from './pack.js';
import { xlt } from './run-xlt.js';

const examplesDir = join(repoRoot, 'examples');

/** The examples that need only `../shared`: the small ones (the others name hub models or data the user fetches). */
const smallExamples = (await readdir(examplesDir)).filter((f) => /^small-.*\.json$/.test(f)).sort();

type Json = Record<string, unknown>;

/** A path of the config made absolute against the examples folder, so the cut-down copy can live elsewhere. */
function absolute(value: unknown): unknown {
  if (typeof value === 'string') return isAbsolute(value) ? value : resolve(examplesDir, value);
  if (Array.isArray(value)) return value.map(absolute);
  return value;
}

/**
 * The example with its sizes cut down so that all of them run in minutes on two cores: one learning rate, two
 * seeds (so run averaging has runs to average), one epoch, two checkpoints a run, and fewer examples. Everything
 * else (task, model, data files, setup, strategies) is the example's own.
 */
function cutDown(config: Json): Json {
  const source = config.source as Json;
  const targets = Object.fromEntries(
    Object.entries(config.targets as Record<string, Json>).map(([lang, t]) => [lang, Object.fromEntries(Object.entries(t).map(([k, v]) => [k, k === 'format' ? v : absolute(v)]))]),
  );
  const grid = (config.grid ?? {}) as Json;
  const training = (config.training ?? {}) as Json;
  return {
    ...config,
    model: absolute(config.model),
    source: { ...source, train: absolute(source.train), ...(source.dev ? { dev: absolute(source.dev) } : {}) },
    targets,
    grid: { ...grid, learningRate: [(grid.learningRate as number[] | undefined)?.at(-1) ?? 3e-4], epochs: [1], seeds: [1, 2] },
    training: { ...training, maxTrainExamples: Math.min(Number(training.maxTrainExamples ?? 160), 160), maxEvalExamples: 40 },
    checkpoints: { perEpoch: 2 },
    output: undefined,
  };
}

/** The first `test` file of a target language, for `xlt evaluate`. */
function firstTest(config: Json): { language: string; file: string; format?: string } {
  const [language, t] = Object.entries(config.targets as Record<string, Json>)[0]!;
  return { language, file: [t.test].flat()[0] as string, ...(t.format ? { format: String(t.format) } : {}) };
}

describe('examples/: every small config runs end to end (cut down), and xlt evaluate works on its checkpoints', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    sharedPath('models', 'tiny-multilingual-bert');
    ({ dir, cleanup } = await tempDir('xlt-examples-run-'));
  });
  afterAll(async () => cleanup?.());

  it('covers every small example', () => {
    expect(smallExamples.length).toBeGreaterThanOrEqual(5);
  });

  it.each(smallExamples)('%s: xlt run, then xlt evaluate on a checkpoint', async (name) => {
    const config = cutDown(JSON.parse(await readFile(join(examplesDir, name), 'utf8')) as Json);
    const file = join(dir, name);
    const out = join(dir, name.replace(/\.json$/, ''));
    await writeFile(file, JSON.stringify(config, null, 2));
    const run = await xlt(['run', file, '--out', out], 900_000);
    expect(run.code, `xlt run ${name}:\n${run.stderr}`).toBe(0);
    const { records } = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as { records: { strategy: string; value: number }[] };
    expect(records.length, `${name}: results`).toBeGreaterThan(0);
    for (const r of records) expect(Number.isFinite(r.value), `${name}: ${r.strategy} ${JSON.stringify(r)}`).toBe(true);

    // A checkpoint of the first run, evaluated by the CLI as a user would on a folder xlt wrote.
    const runsDir = join(out, 'runs');
    const firstRun = (await readdir(runsDir)).filter((d) => !d.startsWith('.')).sort()[0]!;
    const checkpoint = (await readdir(join(runsDir, firstRun))).filter((d) => /^checkpoint-\d+$/.test(d)).sort()[0]!;
    const target = firstTest(config);
    const task = typeof config.task === 'string' ? config.task : String((config.task as Json).id);
    const evalOut = join(out, 'evaluate-check');
    const evaluate = await xlt(
      ['evaluate', '--task', task, '--model', join(runsDir, firstRun, checkpoint), '--data', target.file, '--lang', target.language, '--out', evalOut, ...(target.format ? ['--format', target.format] : [])],
      600_000,
    );
    expect(evaluate.code, `xlt evaluate ${name}:\n${evaluate.stderr}`).toBe(0);
    expect(existsSync(join(evalOut, 'metrics.json'))).toBe(true);
    const { metrics } = JSON.parse(await readFile(join(evalOut, 'metrics.json'), 'utf8')) as { metrics: Record<string, number> };
    expect(Object.keys(metrics).length, `${name}: metrics of xlt evaluate`).toBeGreaterThan(0);
    for (const [metric, value] of Object.entries(metrics)) expect(Number.isFinite(value), `${name}: ${metric}`).toBe(true);
  });
});
