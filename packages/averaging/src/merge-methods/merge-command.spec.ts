import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildProgram, coreModule } from '@xlt/core';
import { createEngine, openCheckpoint, type Engine } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { averagingModule } from '../index.js';
import { writeToyCheckpoint } from '../testing/checkpoint-fixtures.js';
import { mergeCheckpoints } from './merge-checkpoints.js';

let dir: string;
let cleanup: () => Promise<void>;
let engine: Engine;
let stdout: string;
let a: string;
let b: string;
let base: string;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('xlt-merge-cli-'));
  engine = await createEngine([coreModule, averagingModule]);
  stdout = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  [a, b, base] = ['a', 'b', 'base'].map((n) => join(dir, `${n}.safetensors`)) as [string, string, string];
  await writeToyCheckpoint(a, 1);
  await writeToyCheckpoint(b, 2);
  await writeToyCheckpoint(base, 3);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await cleanup();
});

const xlt = (...args: string[]) => buildProgram(engine).parseAsync(args, { from: 'user' });
const same = async (x: string, y: string) => (await readFile(x)).equals(await readFile(y));

describe('xlt average --method / --config', () => {
  it('--method ties --base B --param density=0.5 writes what mergeCheckpoints writes (weight 1 per input)', async () => {
    await xlt('average', a, b, '--method', 'ties', '--base', base, '--param', 'density=0.5', '--param', 'lambda=0.8', '--out', join(dir, 'cli.safetensors'));
    await mergeCheckpoints([{ path: a, weight: 1 }, { path: b, weight: 1 }], join(dir, 'api.safetensors'), { method: 'ties', params: { density: 0.5, lambda: 0.8 }, base });
    expect(await same(join(dir, 'cli.safetensors'), join(dir, 'api.safetensors'))).toBe(true);
    expect(stdout).toContain(`merged with ties (density=0.5 lambda=0.8 normalize=true) over base ${base}`);
  });

  it('--config merge.yml --out DIR runs a mergekit config (relative paths, weights, densities, dtype) into DIR/model.safetensors', async () => {
    const yml = join(dir, 'merge.yml');
    await writeFile(yml, 'merge_method: dare_ties\nbase_model: base.safetensors\nmodels:\n  - model: a.safetensors\n    parameters: { weight: 0.6, density: 0.5 }\n  - model: b.safetensors\n    parameters: { weight: 0.4, density: 0.7 }\nparameters: { seed: 4 }\ndtype: float64\n');
    await xlt('average', '--config', yml, '--out', join(dir, 'out'));
    await mergeCheckpoints([{ path: a, weight: 0.6 }, { path: b, weight: 0.4 }], join(dir, 'api.safetensors'), { method: 'dare_ties', params: { density: [0.5, 0.7], seed: 4 }, base, dtype: 'F64' });
    expect(await readdir(join(dir, 'out'))).toEqual(['model.safetensors']);
    expect(await same(join(dir, 'out', 'model.safetensors'), join(dir, 'api.safetensors'))).toBe(true);
    const merged = await openCheckpoint(join(dir, 'out', 'model.safetensors'));
    expect(merged.tensors.get('classifier.bias')!.dtype).toBe('F64');
    await merged.close();
  });

  it('--strategy checkpoint-average --method task_arithmetic merges the strategy plan', async () => {
    const run = join(dir, 'run-a');
    await mkdir(run);
    for (const step of [50, 100, 150]) await writeToyCheckpoint(join(run, `checkpoint-${step}.safetensors`), step, {}, { step: String(step) });
    await xlt('average', '--strategy', 'checkpoint-average', '--option', 'lastK=2', '--method', 'task_arithmetic', '--base', base, '--out', join(dir, 'ta.safetensors'), run);
    const plan = [100, 150].map((s) => ({ path: join(run, `checkpoint-${s}.safetensors`), weight: 0.5 }));
    await mergeCheckpoints(plan, join(dir, 'api.safetensors'), { method: 'task_arithmetic', base });
    expect(await same(join(dir, 'ta.safetensors'), join(dir, 'api.safetensors'))).toBe(true);
    expect(stdout).toContain('merged with task_arithmetic');
  });

  it('refuses bad merges with clear messages and writes nothing', async () => {
    const out = join(dir, 'o.safetensors');
    const before = (await readdir(dir)).sort();
    await expect(xlt('average', a, b, '--method', 'ties', '--base', base, '--param', 'density=2', '--out', out)).rejects.toThrow('ties.density: expected a number in (0, 1], found 2');
    await expect(xlt('average', a, b, '--method', 'ties', '--out', out)).rejects.toThrow('Merge method "ties" needs a base model');
    await expect(xlt('average', a, b, '--param', 'density=0.5', '--out', out)).rejects.toThrow('xlt average: --param needs --method');
    await expect(xlt('average', a, b, '--method', 'ties', '--base', base, '--param', 'density', '--out', out)).rejects.toThrow('--param: expected key=value, e.g. density=0.5, found "density"');
    await expect(xlt('average', a, b, '--method', 'soup', '--out', out)).rejects.toThrow(/Unknown merge method "soup". Known merge method ids: dare_linear, .*ties/);
    await expect(xlt('average', a, b, '--method', 'slerp', '--base', base, '--out', out)).rejects.toThrow('Merge method "slerp" takes no base model');
    await expect(xlt('average', '--method', 'linear', '--base', a, '--out', a, b)).rejects.toThrow('--out: expected an output path that is not one of the inputs');
    const yml = join(dir, 'm.yml');
    await writeFile(yml, 'merge_method: linear\nmodels: [{ model: a.safetensors }]\n');
    await expect(xlt('average', '--config', yml, a, '--method', 'ties', '--out', out)).rejects.toThrow('--config gives the models, method, base and parameters; leave out INPUT/--inputs, --method');
    await writeFile(yml, 'merge_method: linear\nmodels: [{ model: a.safetensors, parameters: { density: 0.5 } }]\n');
    await expect(xlt('average', '--config', yml, '--out', out)).rejects.toThrow(`${yml}:2:57 at models[0].parameters.density: expected one of the per-model parameters of linear: weight`);
    expect((await readdir(dir)).sort()).toEqual([...before, 'm.yml'].sort());
  });
});
