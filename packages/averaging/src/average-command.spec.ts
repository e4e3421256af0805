import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildProgram, coreModule } from '@xlt/core';
import { createEngine, openCheckpoint, writeSafetensors, type Engine } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { averagingModule } from './index.js';
import { readRunFolder, runsFromInputs } from './run-folder.js';
import { writeToyCheckpoint, writeToyModelFolder } from './testing/checkpoint-fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
let engine: Engine;
let stdout: string;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('xlt-avg-cli-'));
  engine = await createEngine([coreModule, averagingModule]);
  stdout = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await cleanup();
});

const xlt = (...args: string[]) => buildProgram(engine).parseAsync(args, { from: 'user' });

/** A run folder of `*.safetensors` checkpoints whose names and metadata carry step and source-dev F1. */
async function runFolder(name: string, seed: number, f1s: number[]): Promise<string> {
  const folder = join(dir, name);
  await mkdir(folder);
  for (let k = 0; k < f1s.length; k++) {
    await writeToyCheckpoint(join(folder, `checkpoint-${(k + 1) * 50}.safetensors`), seed + k, {}, { step: String((k + 1) * 50), source_dev_f1: String(f1s[k]) });
  }
  return folder;
}

describe('run folders', () => {
  it('orders checkpoints by step and reads step and source-dev scores from __metadata__', async () => {
    const folder = await runFolder('run-a', 1, [70, 80, 75]);
    const run = await readRunFolder(folder);
    expect(run.id).toBe('run-a');
    expect(run.checkpoints.map((c) => [c.step, c.sourceDev?.f1])).toEqual([[50, 70], [100, 80], [150, 75]]);
    const fromGlob = await runsFromInputs([join(dir, 'run-*')]);
    expect(fromGlob.map((r) => r.id)).toEqual(['run-a']);
  });

  it('reads HF Trainer layouts (checkpoint-* subfolders), ordered by step number not by name', async () => {
    const folder = join(dir, 'hf-run');
    for (const step of [1000, 500]) await writeToyModelFolder(join(folder, `checkpoint-${step}`), step);
    const run = await readRunFolder(folder);
    expect(run.checkpoints.map((c) => c.step)).toEqual([500, 1000]);
  });
});

describe('xlt average', () => {
  it('is registered with every built-in strategy', () => {
    expect(engine.commands.ids()).toContain('average');
    expect(engine.strategies.ids()).toHaveLength(9);
  });

  it('--inputs a b --out avg.safetensors writes the uniform mean', async () => {
    const [a, b] = [join(dir, 'a.safetensors'), join(dir, 'b.safetensors')];
    await writeToyCheckpoint(a, 1);
    await writeToyCheckpoint(b, 2);
    await xlt('average', '--inputs', a, b, '--out', join(dir, 'avg.safetensors'));
    const [x, y, avg] = await Promise.all([a, b, join(dir, 'avg.safetensors')].map((p) => openCheckpoint(p)));
    const name = 'classifier.bias';
    const [vx, vy, va] = await Promise.all([x!, y!, avg!].map((c) => c.readFloat64(name)));
    for (let i = 0; i < 3; i++) expect(va![i]).toBe(Math.fround((vx![i]! + vy![i]!) / 2));
    await Promise.all([x!, y!, avg!].map((c) => c.close()));
    expect(stdout).toMatch(/0\.500000 .*a\.safetensors/);
  });

  it('refuses an input with NaN or infinity by default, naming file, tensor and element, and averages it with --allow-non-finite', async () => {
    const [a, b, out] = [join(dir, 'a.safetensors'), join(dir, 'b.safetensors'), join(dir, 'avg.safetensors')];
    await writeSafetensors(a, [{ name: 'w', dtype: 'F32', shape: [3], data: new Float32Array([1, 2, 3]) }]);
    await writeSafetensors(b, [{ name: 'w', dtype: 'F32', shape: [3], data: new Float32Array([1, Number.NaN, 3]) }]);
    await expect(xlt('average', a, b, '--out', out)).rejects.toThrow(`${b} at "w"[1] (byte 68): expected a finite value (NaN and infinity are refused; --allow-non-finite averages them), found NaN`);
    expect(existsSync(out)).toBe(false);
    await xlt('average', a, b, '--out', out, '--allow-non-finite');
    const avg = await openCheckpoint(out);
    expect(Array.from(await avg.readFloat64('w'))).toEqual([1, Number.NaN, 3]);
    await avg.close();
  });

  it('refuses an output that is one of the inputs or holds one, and an existing output without --overwrite', async () => {
    const [a, b] = [join(dir, 'a.safetensors'), join(dir, 'b.safetensors')];
    await writeToyCheckpoint(a, 1);
    await writeToyCheckpoint(b, 2);
    const before = await readFile(a);
    await expect(xlt('average', a, b, '--out', a)).rejects.toThrow(`--out: expected an output path that is not one of the inputs nor a folder holding one, found ${a}, which is the input ${a}`);
    await expect(xlt('average', join(dir, 'run', 'c.safetensors'), '--out', join(dir, 'run'))).rejects.toThrow('which holds the input');
    expect((await readFile(a)).equals(before)).toBe(true);
    const out = join(dir, 'avg.safetensors');
    await writeFile(out, 'an older result');
    await expect(xlt('average', a, b, '--out', out)).rejects.toThrow(`Output ${out} already exists; choose another --out or pass overwrite`);
    expect(await readFile(out, 'utf8')).toBe('an older result');
    await xlt('average', a, b, '--out', out, '--overwrite');
    expect((await openCheckpoint(out)).tensors.size).toBeGreaterThan(0);
  });

  it('--strategy checkpoint-average --option lastK=2 over two run folders writes one model per run', async () => {
    const runs = [await runFolder('run-a', 1, [70, 80, 75]), await runFolder('run-b', 9, [60, 65, 66])];
    await xlt('average', '--strategy', 'checkpoint-average', '--option', 'lastK=2', '--out', join(dir, 'ca'), ...runs);
    expect((await readdir(join(dir, 'ca'))).sort()).toEqual(['run-a.safetensors', 'run-b.safetensors']);
    expect(stdout).toMatch(/0\.500000 .*run-a\/checkpoint-100\.safetensors/);
    expect(stdout).toMatch(/0\.500000 .*run-a\/checkpoint-150\.safetensors/);
    expect(stdout).not.toMatch(/checkpoint-50\.safetensors/);
  });

  it('--strategy best-source-dev ranks by the metric recorded in the metadata', async () => {
    const run = await runFolder('run-a', 1, [70, 80, 75]);
    await xlt('average', '--strategy', 'best-source-dev', '--out', join(dir, 'best.safetensors'), run);
    expect(stdout).toMatch(/1\.000000 .*checkpoint-100\.safetensors/);
  });

  it('--strategy run-average over HF checkpoint folders writes an HF folder', async () => {
    const m = [join(dir, 'r1', 'checkpoint-10'), join(dir, 'r2', 'checkpoint-10')];
    await writeToyModelFolder(m[0]!, 1);
    await writeToyModelFolder(m[1]!, 2);
    await xlt('average', '--strategy', 'run-average', '--out', join(dir, 'ra'), join(dir, 'r1'), join(dir, 'r2'));
    expect((await readdir(join(dir, 'ra'))).sort()).toEqual(['config.json', 'model.safetensors', 'vocab.txt']);
  });

  it('rejects bad strategy options naming the option, and unknown strategies listing the known ones', async () => {
    const run = await runFolder('run-a', 1, [70, 80]);
    await expect(xlt('average', '--strategy', 'ema', '--option', 'decay=2', '--out', join(dir, 'o'), run)).rejects.toThrow(/options at ema\.decay: expected .*found 2/);
    await expect(xlt('average', '--strategy', 'nope', '--out', join(dir, 'o'), run)).rejects.toThrow(/Unknown averaging strategy "nope".*checkpoint-average/);
    await expect(xlt('average', '--out', join(dir, 'o'), join(dir, 'missing-*'))).rejects.toThrow(/missing-\*: expected a glob pattern .* found no match/);
    expect(await readdir(dir)).toEqual(['run-a']);
  });
});
