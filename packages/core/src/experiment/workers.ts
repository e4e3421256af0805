import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { XltError } from '@xlt/plugin-api';
import { xltBin } from './slurm.js';
import { ARRAY_INDEX_VARIABLES } from './units.js';

/** What `runWorkers` starts: `xlt run <config> --out <out> --shard i/n` in `n` child processes. */
export interface WorkerOptions {
  readonly config: string;
  readonly out: string;
  readonly workers: number;
  readonly backend?: string;
  readonly stderr: (text: string) => void;
}

/**
 * Trains the units of an experiment in `workers` child processes, each taking every n-th unit (`--shard i/n`) with
 * its share of this process's compute threads (`XLT_NATIVE_THREADS`, else every core); their lines are prefixed with the worker's number. Rejects,
 * naming each worker that failed and its exit code, after all have ended.
 */
export async function runWorkers(o: WorkerOptions): Promise<void> {
  // The threads this process would use (XLT_NATIVE_THREADS, else every core), shared out between the workers.
  const own = Number(process.env['XLT_NATIVE_THREADS']) || availableParallelism();
  const threads = String(Math.max(1, Math.floor(own / o.workers)));
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads, TF_NUM_INTRAOP_THREADS: threads, XLT_NATIVE_THREADS: threads };
  for (const name of ARRAY_INDEX_VARIABLES) delete env[name]; // a worker's units come from --shard
  const failed: string[] = [];
  await Promise.all(
    Array.from({ length: o.workers }, (_, i) => {
      const args = [xltBin(), 'run', o.config, '--out', o.out, '--shard', `${i}/${o.workers}`, ...(o.backend ? ['--backend', o.backend] : [])];
      const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let pending = '';
      child.stderr.on('data', (chunk: Buffer) => {
        const lines = (pending + chunk.toString()).split('\n');
        pending = lines.pop()!;
        for (const line of lines) o.stderr(`[worker ${i}] ${line}\n`);
      });
      return new Promise<void>((done) =>
        child.on('close', (code, signal) => {
          if (pending) o.stderr(`[worker ${i}] ${pending}\n`);
          if (code !== 0) failed.push(`worker ${i} (--shard ${i}/${o.workers}) ended with ${signal ?? `exit code ${code}`}`);
          done();
        }),
      );
    }),
  );
  if (failed.length) throw new XltError(`${failed.join('; ')}: see its lines above. Finished units are kept; run the same command again to continue.`);
}
