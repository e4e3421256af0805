import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { SafetensorsFile } from '@xlt/plugin-api';
import { readMetricsLog } from '../telemetry/metrics-log.js';

const core = resolve(import.meta.dirname, '../..');
// Under the package so that the compiled child resolves @tensorflow/tfjs and tokenizers from node_modules.
const work = join(core, '.tmp', `kill-resume-${process.pid}`);
const childJs = join(work, 'out', 'trainer', 'kill-resume-child.testing.js');

/**
 * Compiles the child and the modules it imports, since Node cannot run the TypeScript sources. Type checking is
 * `tsc --noEmit`'s job; here each file is only transpiled, which takes a second instead of half a minute.
 */
beforeAll(async () => {
  const src = join(core, 'src');
  const pending = [join(src, 'trainer/kill-resume-child.testing.ts')];
  const done = new Set<string>();
  while (pending.length) {
    const file = pending.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const text = await readFile(file, 'utf8');
    for (const match of text.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) pending.push(resolve(dirname(file), `${match[1]}.ts`));
    const { outputText } = ts.transpileModule(text, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, experimentalDecorators: true, verbatimModuleSyntax: false },
      fileName: file,
    });
    const out = join(work, 'out', relative(src, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, outputText);
  }
  expect(existsSync(childJs)).toBe(true);
});
afterAll(() => rm(work, { recursive: true, force: true }));

function run(runDir: string, ...flags: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [childJs, runDir, ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

async function completeCheckpoints(runDir: string): Promise<number[]> {
  if (!existsSync(runDir)) return [];
  return (await readdir(runDir))
    .map((n) => /^checkpoint-(\d+)$/.exec(n)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

async function finalWeights(runDir: string, step: number): Promise<Map<string, Float32Array>> {
  const file = await SafetensorsFile.open(join(runDir, `checkpoint-${step}`, 'model.safetensors'));
  const out = new Map<string, Float32Array>();
  for (const name of file.tensors.keys()) out.set(name, await file.readFloat32(name));
  await file.close();
  return out;
}

test('a training process killed with SIGKILL after its 2nd checkpoint resumes to the same final weights, bit for bit', async () => {
  const whole = join(work, 'whole');
  const killed = join(work, 'killed');
  const reference = await run(whole);
  expect(reference.code, reference.stderr).toBe(0);
  const total = JSON.parse(reference.stdout).steps.at(-1) as number;
  expect(total).toBe(10);

  const child = spawn(process.execPath, [childJs, killed, '--delay-ms', '150'], { stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((done) => child.on('exit', (_code, signal) => done(signal)));
  let seen: number[] = [];
  for (let tries = 0; tries < 1200 && seen.length < 2; tries++) {
    await new Promise((r) => setTimeout(r, 25));
    seen = await completeCheckpoints(killed);
  }
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  const atKill = await completeCheckpoints(killed);
  expect(atKill.length).toBeGreaterThanOrEqual(2);
  expect(atKill).not.toContain(total);

  const resumed = await run(killed, '--resume');
  expect(resumed.code, resumed.stderr).toBe(0);
  const result = JSON.parse(resumed.stdout) as { resumedFrom: number; steps: number[] };
  expect(result.resumedFrom).toBe(atKill.at(-1));
  expect(resumed.stderr).toContain(`resuming ${killed} from step ${atKill.at(-1)}`);
  expect(result.steps).toEqual(JSON.parse(reference.stdout).steps);
  expect(await finalWeights(killed, total)).toEqual(await finalWeights(whole, total));
  // The metrics log of the killed and resumed run holds each record once, as the uninterrupted run's does.
  const records = async (runDir: string) => (await readMetricsLog(join(runDir, 'metrics.jsonl'))).map((r) => `${String(r.type)}@${r.step}`);
  expect(await records(killed)).toEqual(await records(whole));
  expect(await records(whole)).toEqual(['checkpoint@2', 'checkpoint@4', 'checkpoint@6', 'checkpoint@8', 'train@10', 'checkpoint@10']);
}, 180_000);
