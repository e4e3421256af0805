import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeQuickstart } from '@xlt/core';
import { tempDir } from '@xlt/plugin-api/testing';
import { repoRoot } from './pack.js';
import { xlt as runXlt, type Outcome } from './run-xlt.js';

// One compute thread in every process, so the arithmetic is the same in one process and in two workers.
const ENV = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', TF_NUM_INTRAOP_THREADS: '1', XLT_NATIVE_THREADS: '1' };

const xlt = (args: readonly string[], env: NodeJS.ProcessEnv = ENV) => runXlt(args, 600_000, env);

describe('xlt run --workers 2 and the unit commands on the quickstart grid (4 runs)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let config: string;
  let single: Outcome;
  let workers: Outcome;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('xlt-workers-'));
    config = await writeQuickstart({ out: join(dir, 'q'), trainSentences: 160, evalSentences: 60 });
    single = await xlt(['run', config, '--out', join(dir, 'single')]);
    workers = await xlt(['run', config, '--out', join(dir, 'workers'), '--workers', '2']);
  }, 900_000);
  afterAll(() => cleanup());

  it('trains each unit in one of the two workers and aggregates once', () => {
    expect(single.code, single.stderr.slice(-2000)).toBe(0);
    expect(workers.code, workers.stderr.slice(-2000)).toBe(0);
    for (const i of [0, 1]) expect(workers.stderr).toContain(`[worker ${i}] [xlt] unit `);
    expect(workers.stderr.match(/\[worker \d\] \[xlt\] unit \d \(.*\): trained/g)).toHaveLength(4);
  });

  it('gives results.json byte-identical to one process', async () => {
    expect(await readFile(join(dir, 'workers', 'results.json'), 'utf8')).toBe(await readFile(join(dir, 'single', 'results.json'), 'utf8'));
  });

  it('plan lists every unit as done; --aggregate on a folder with a missing unit names it', async () => {
    const plan = await xlt(['plan', config, '--out', join(dir, 'workers')]);
    expect(plan.stdout).toContain('4/4 units done');
    const partial = join(dir, 'partial');
    expect((await xlt(['run', config, '--out', partial, '--index', '2'])).code).toBe(0);
    const aggregate = await xlt(['run', config, '--out', partial, '--aggregate']);
    expect(aggregate.code).toBe(1);
    expect(aggregate.stderr).toMatch(/3 of 4 units are not finished[\s\S]*unit 0 \(lr=[^)]*\): not trained[\s\S]*unit 3/);
    expect(aggregate.stderr).not.toMatch(/unit 2 \(/);
  });

  it('two processes started on one unit at once: one trains it, the other reports the lock (or finds it done) and exits 0', async () => {
    const out = join(dir, 'twice');
    const [a, b] = await Promise.all([xlt(['run', config, '--out', out, '--index', '1']), xlt(['run', config, '--out', out, '--index', '1'])]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const said = [a.stderr, b.stderr].map((e) => /unit 1 \(.*\): (trained|already done|held by another process, left to it)/.exec(e)?.[1]);
    expect(said.filter((x) => x === 'trained')).toHaveLength(1);
    expect(said.filter((x) => x === 'already done' || x === 'held by another process, left to it')).toHaveLength(1);
  });

  it('a unit whose lock a live process holds is reported, not trained, and the command exits 0', async () => {
    const out = join(dir, 'held');
    const plan = JSON.parse((await xlt(['plan', config, '--out', out, '--json'])).stdout) as { units: { key: string }[] };
    const lock = join(out, 'locks', `run=${plan.units[2]!.key}.lock`);
    await mkdir(join(out, 'locks'), { recursive: true });
    // This test process is the live holder (same host, running pid), as another xlt would be.
    await writeFile(lock, JSON.stringify({ pid: process.pid, host: hostname(), since: 'now' }));
    const second = await xlt(['run', config, '--out', out, '--index', '2']);
    expect(second.code, second.stderr.slice(-2000)).toBe(0);
    expect(second.stderr).toContain(`Training run ${plan.units[2]!.key} is being done by process ${process.pid} on ${hostname()}`);
    expect(second.stderr).toMatch(/unit 2 \(.*\): held by another process, left to it/);
    expect(existsSync(join(out, 'runs', plan.units[2]!.key, 'done.json'))).toBe(false);
    expect(existsSync(lock)).toBe(true);
  });

  it('a unit killed (SIGKILL) as its first checkpoint is written, and the aggregate killed mid-evaluation, resume to the same results', async () => {
    const out = join(dir, 'killed');
    const killWhen = async (args: string[], ready: () => Promise<boolean>) => {
      const child = spawn(process.execPath, [join('packages', 'core', 'bin', 'xlt.js'), ...args], { cwd: repoRoot, env: ENV, stdio: 'ignore' });
      const ended = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      let killed = false;
      while (!killed && child.exitCode === null) {
        if (await ready()) killed = child.kill('SIGKILL');
        else await new Promise((r) => setTimeout(r, 20));
      }
      await ended;
      return killed;
    };
    const plan = JSON.parse((await xlt(['plan', config, '--out', out, '--json'])).stdout) as { units: { key: string }[] };
    for (const [i, unit] of plan.units.entries()) {
      const runDir = join(out, 'runs', unit.key);
      if (i === 0) {
        // The first checkpoint being written (its temporary folder) or just written, whichever the poll sees first.
        const killed = await killWhen(['run', config, '--out', out, '--index', '0'], async () => existsSync(runDir) && (await readdir(runDir)).some((n) => /^\.?checkpoint-/.test(n)));
        expect(killed).toBe(true);
      }
      expect((await xlt(['run', config, '--out', out, '--index', String(i)])).code).toBe(0);
    }
    const evalDir = join(out, 'eval');
    const killedAggregate = await killWhen(['run', config, '--out', out, '--aggregate'], async () => existsSync(evalDir) && (await readdir(evalDir)).length > 1);
    expect(killedAggregate).toBe(true);
    const resumed = await xlt(['run', config, '--out', out, '--aggregate']);
    expect(resumed.code, resumed.stderr.slice(-2000)).toBe(0);
    expect(await readFile(join(out, 'results.json'), 'utf8')).toBe(await readFile(join(dir, 'single', 'results.json'), 'utf8'));
  });
});
