import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ContainerModule } from 'inversify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AveragingStrategy, createEngine, TaskPlugin } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { coreModule } from '../core-module.js';
import { engineServices } from './engine-services.js';
import { runExperiment } from './runner.js';
import { tinyTextTask, writeTinyTextExperiment } from './testing/tiny-text-task.js';
import { toyStrategies } from './testing/toy-strategies.js';
import { withWorkLock } from './work-lock.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('xlt-work-lock-')));
afterEach(() => cleanup());

/** The pid of a process that has exited: nothing runs under it any more. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((done) => child.on('exit', done));
  return child.pid!;
}

describe('withWorkLock', () => {
  it('lets one holder work at a time, names it to the second, and releases the lock when the work ends or fails', async () => {
    const file = join(dir, 'locks', 'run=a.lock');
    let inner: unknown;
    await withWorkLock(file, 'Training run a', async () => {
      expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
      inner = await withWorkLock(file, 'Training run a', async () => 'second').catch((e: Error) => e.message);
    });
    expect(inner).toMatch(new RegExp(`Training run a is being done by process ${process.pid} on ${hostname()} since .*\\(lock ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`));
    expect(existsSync(file)).toBe(false);
    await expect(withWorkLock(file, 'x', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(existsSync(file)).toBe(false);
  });

  it('takes over the lock of a dead process on this machine, of a silent holder elsewhere, and an old unreadable one', async () => {
    const file = join(dir, 'run.lock');
    const old = new Date(Date.now() - 3_600_000);
    const cases = [
      JSON.stringify({ pid: await deadPid(), host: hostname(), since: 'then' }),
      JSON.stringify({ pid: 1, host: 'another-node', since: 'then' }),
      '{"pid": 12',
    ];
    for (const [i, text] of cases.entries()) {
      await writeFile(file, text);
      if (i > 0) await utimes(file, old, old);
      expect(await withWorkLock(file, 'w', async () => 'done')).toBe('done');
    }
  });

  it('with wait, waits for a live holder and then does the work, told once that it waits', async () => {
    const file = join(dir, 'head.lock');
    const order: string[] = [];
    const told: string[] = [];
    let release!: () => void;
    const first = withWorkLock(file, 'Training the shared head', () => new Promise<void>((r) => (release = () => (order.push('first'), r()))));
    await new Promise((r) => setTimeout(r, 20));
    const second = withWorkLock(file, 'Training the shared head', async () => void order.push('second'), { wait: true, pollMs: 10, onWait: (l) => told.push(l) });
    await new Promise((r) => setTimeout(r, 60));
    expect(order).toEqual([]);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(new RegExp(`^Training the shared head is being done by process ${process.pid} on ${hostname()} since \\S+; waiting for it$`));
  });

  it('keeps a fresh lock of another machine: its holder may be alive', async () => {
    const file = join(dir, 'run.lock');
    await writeFile(file, JSON.stringify({ pid: 1, host: 'another-node', since: 'a minute ago' }));
    await expect(withWorkLock(file, 'Training run b', async () => 'x')).rejects.toThrow('Training run b is being done by process 1 on another-node since a minute ago');
    expect(existsSync(file)).toBe(true);
  });
});

describe('xlt run on a folder whose run another process is training', () => {
  it('waits for that run, naming the holder, and does it once the holder lets go', async () => {
    const engine = await createEngine([
      coreModule,
      new ContainerModule(({ bind }) => {
        bind(TaskPlugin).toConstantValue(tinyTextTask);
        bind(AveragingStrategy).toConstantValue(toyStrategies.find((s) => s.id === 'last')!);
      }),
    ]);
    const config = await writeTinyTextExperiment(dir, { strategies: ['last'], grid: { learningRate: [1e-3], batchSize: [8], epochs: [1], schedule: ['linear'], warmup: [0], seeds: [1] } });
    const out = join(dir, 'out');
    const run = 'lr=0.001_bs=8_ep=1_sched=linear_wu=0_seed=1';
    let letGo!: () => void;
    const holding = withWorkLock(join(out, 'locks', `run=${run}.lock`), 'held by the test', () => new Promise<void>((resolve) => (letGo = resolve)));
    const lines: string[] = [];
    const stderr = (text: string) => {
      lines.push(text);
      // The holder lets go once the experiment says it is waiting: before that, it must not have trained the run.
      if (text.includes('waiting for it')) {
        expect(existsSync(join(out, 'runs', run, 'done.json'))).toBe(false);
        letGo();
      }
    };
    const outcome = await runExperiment(config, { engine, services: engineServices(engine, { log: () => {} }), out, print: () => {}, stderr });
    await holding;
    expect(lines.join('')).toContain(`Training run ${run} is being done by process ${process.pid} on`);
    expect(existsSync(join(out, 'runs', run, 'done.json'))).toBe(true);
    expect(outcome.records.length).toBeGreaterThan(0);
  });
});
