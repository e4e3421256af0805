import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeQuickstart } from '@xlt/core';
import { tempDir } from '@xlt/plugin-api/testing';
import { repoRoot } from './pack.js';
import { xlt as runXlt, type Outcome } from './run-xlt.js';
import { requireSlurm, startLocalCluster, type LocalCluster } from './slurm/local-cluster.js';

/**
 * Issue #17: the quickstart benchmark as a SLURM job array on a real single-node cluster (Debian's slurm-wlm and
 * munge, daemons in a temporary folder), with one task requeued mid-run, gives the same results and the same
 * averaged weights, byte for byte, as one `xlt run` in one process.
 */

// One compute thread everywhere, as the array's tasks get (--cpus-per-task 1): the same arithmetic in both.
const THREADS = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', TF_NUM_INTRAOP_THREADS: '1', XLT_NATIVE_THREADS: '1' };

const xlt = (args: readonly string[], env: NodeJS.ProcessEnv) => runXlt(args, 900_000, env);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Every averaged model's tensors under `out/models`, by path relative to `out`: the safetensors header without its
 * metadata (which names the averaged checkpoints by absolute path) and the data bytes.
 */
async function modelWeights(out: string): Promise<Map<string, Buffer>> {
  const tensors = (file: Buffer) => {
    const n = Number(file.readBigUInt64LE(0));
    const { __metadata__: _metadata, ...header } = JSON.parse(file.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
    return Buffer.concat([Buffer.from(JSON.stringify(header)), file.subarray(8 + n)]);
  };
  const found = new Map<string, Buffer>();
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.safetensors')) found.set(relative(out, p), tensors(await readFile(p)));
    }
  };
  await walk(join(out, 'models'));
  return found;
}

describe('the quickstart grid as a SLURM job array (4 units, %2), one unit requeued mid-run', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let cluster: LocalCluster | undefined;
  let config: string;
  const reference = () => join(dir, 'single');
  const array = () => join(dir, 'array');
  let submitted: { array: string; aggregate: string; units: number };
  let restarts = '';

  beforeAll(async () => {
    requireSlurm();
    ({ dir, cleanup } = await tempDir('xlt-slurm-'));
    cluster = await startLocalCluster(join(dir, 'cluster'));
    config = await writeQuickstart({ out: join(dir, 'quickstart') });
    const env = { ...process.env, ...THREADS };
    const single = await xlt(['run', config, '--out', reference()], env);
    expect(single.code, single.stderr.slice(-3000)).toBe(0);

    const submit = await xlt(['submit', 'slurm', config, '--out', array(), '--parallel', '2', '--submit'], { ...cluster.env, ...THREADS });
    expect(submit.code, submit.stderr.slice(-3000)).toBe(0);
    submitted = JSON.parse(submit.stdout.split('\n')[0]!);

    // Requeue unit 0 once it is training and has saved a checkpoint: SLURM kills it and runs it again later.
    const plan = JSON.parse((await xlt(['plan', config, '--out', array(), '--json'], env)).stdout) as { units: { index: number; key: string }[] };
    const runDir = join(array(), 'runs', plan.units[0]!.key);
    const deadline = Date.now() + 600_000;
    while (!(existsSync(runDir) && (await readdir(runDir)).some((n) => n.startsWith('checkpoint-')))) {
      if (Date.now() > deadline) throw new Error(`unit 0 saved no checkpoint in 10 minutes (${runDir}); logs in ${array()}/slurm/logs`);
      await sleep(200);
    }
    await cluster.command('scontrol', ['requeue', `${submitted.array}_0`]);
    // SLURM holds a requeued job back for two minutes (its begin time); once it is pending again, let it start as
    // soon as a CPU is free.
    for (let i = 0; i < 50 && !/JobState=PENDING/.test(await cluster.command('scontrol', ['show', 'job', `${submitted.array}_0`])); i++) await sleep(200);
    await cluster.command('scontrol', ['update', `JobId=${submitted.array}_0`, 'StartTime=now']);
    restarts = /Restarts=(\d+)/.exec(await cluster.command('scontrol', ['show', 'job', `${submitted.array}_0`]))?.[1] ?? '';

    // Wait for the array and the aggregate job to leave the queue.
    // squeue lists the user's jobs (not -j: it refuses ids that have already left the queue).
    while ((await cluster.command('squeue', ['-h', '-o', '%i'])).split('\n').some((id) => id.startsWith(`${submitted.array}_`) || id.trim() === submitted.aggregate)) {
      if (Date.now() > deadline + 600_000) throw new Error(`the jobs did not finish in 20 minutes; logs in ${array()}/slurm/logs`);
      await sleep(1000);
    }
  }, 1_800_000);
  afterAll(async () => {
    await cluster?.stop();
    // XLT_KEEP_SLURM_TEST=1 keeps the folder (cluster logs, both output folders) for a look after a failure.
    if (process.env['XLT_KEEP_SLURM_TEST']) process.stderr.write(`kept ${dir}\n`);
    else await cleanup?.();
  });

  it('submitted one task per unit and a dependent aggregate job, and requeued unit 0 mid-run', () => {
    expect(submitted.units).toBe(4);
    expect(restarts).toBe('1');
  });

  it('the aggregate job wrote the results after every unit finished', async () => {
    const log = await readFile(join(array(), 'slurm', 'logs', 'aggregate.out'), 'utf8');
    expect(log).toContain('[xlt] done:');
    expect(existsSync(join(array(), 'results.json'))).toBe(true);
  });

  it('gives results.json and every averaged model byte-identical to one xlt run in one process', async () => {
    expect(await readFile(join(array(), 'results.json'), 'utf8')).toBe(await readFile(join(reference(), 'results.json'), 'utf8'));
    const [single, arrayed] = await Promise.all([modelWeights(reference()), modelWeights(array())]);
    expect([...arrayed.keys()].sort()).toEqual([...single.keys()].sort());
    expect(single.size).toBeGreaterThan(0);
    for (const [path, bytes] of single) expect(arrayed.get(path)!.equals(bytes), path).toBe(true);
  });
});
