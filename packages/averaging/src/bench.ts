/**
 * Benchmark of streaming averaging (issue #5): `npx nx run @xlt/averaging:bench [-- --size-mb 64 --n 2,8,32 --reps 3]`.
 * For each N it writes N checkpoints of the given size (F32, distinct files), then, `--reps` times in the same
 * warm page-cache state: reads the files once (`cat files > /dev/null`, the I/O floor), averages them in a child
 * process, and reads them once more. Each repetition's ratio is its averaging time over the mean of the two reads
 * around it; the medians are printed, with the child's peak RSS, its extra RSS over its own baseline, and the
 * bound of the issue (extra RSS < 2x the largest tensor + 64 MiB). The last lines are
 * `ratio n=<N> average/read-once=<x> ...`, one per N. `--workers K` sets the averaging threads (default: the
 * library's); `--no-fsync` skips the flush of the output before its rename, only to measure what that flush
 * costs (never the library's default).
 * @packageDocumentation
 */
import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { averageCheckpoints } from './average-checkpoints.js';
import { writeToyCheckpoint } from './testing/checkpoint-fixtures.js';

const MiB = 1 << 20;
const TENSOR_ELEMENTS = 4 * MiB; // 16 MiB F32 tensors, the order of a BERT-base embedding matrix.

function arg(names: readonly string[], fallback: string): string {
  for (const name of names) {
    const i = process.argv.indexOf(`--${name}`);
    if (i >= 0 && process.argv[i + 1]) return process.argv[i + 1]!;
  }
  return fallback;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface ChildResult {
  seconds: number;
  maxRssKiB: number;
  baseRssKiB: number;
}

async function child(): Promise<void> {
  const out = arg(['out'], '');
  const inputs = process.argv.slice(process.argv.indexOf('--inputs') + 1);
  const workers = arg(['workers'], '');
  const baseRssKiB = process.memoryUsage().rss / 1024;
  const start = performance.now();
  await averageCheckpoints(inputs.map((path) => ({ path, weight: 1 })), out, {
    ...(workers ? { workers: Number(workers) } : {}),
    ...(process.argv.includes('--no-fsync') ? { fsync: false } : {}),
  });
  const seconds = (performance.now() - start) / 1000;
  const result: ChildResult = { seconds, maxRssKiB: process.resourceUsage().maxRSS, baseRssKiB };
  process.stdout.write(JSON.stringify(result));
}

async function main(): Promise<void> {
  const sizeMb = Number(arg(['size-mb'], '64'));
  const counts = arg(['n', 'counts'], '2,8,32').split(',').map(Number);
  const reps = Math.max(1, Number(arg(['reps'], '3')));
  const workers = arg(['workers'], '');
  const noFsync = process.argv.includes('--no-fsync');
  const passed = [...(workers ? ['--workers', workers] : []), ...(noFsync ? ['--no-fsync'] : [])];
  if (!(sizeMb > 0) || !counts.every((n) => Number.isInteger(n) && n > 0)) {
    throw new Error(`usage: bench.js [--size-mb MB] [--n 2,8,32] [--reps 3] [--workers K] [--no-fsync]; found --size-mb ${sizeMb}, --n ${counts.join(',')}`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'xlt-avg-bench-'));
  try {
    const elements = Math.max(1, Math.floor((sizeMb * MiB) / 4));
    const tensors = Math.ceil(elements / TENSOR_ELEMENTS);
    const perTensor = Math.ceil(elements / tensors);
    const first = join(dir, 'c0.safetensors');
    await writeToyCheckpoint(first, 1, { large: { tensors, elements: perTensor } });
    const files = [first];
    for (let i = 1; i < Math.max(...counts); i++) {
      files.push(join(dir, `c${i}.safetensors`));
      await copyFile(first, files[i]!);
    }
    const script = fileURLToPath(import.meta.url);
    const boundMiB = (2 * perTensor * 4 + 64 * MiB) / MiB;
    process.stdout.write(
      `checkpoint: ${sizeMb} MiB F32 in ${tensors} tensor(s) of ${((perTensor * 4) / MiB).toFixed(1)} MiB; ${reps} repetition(s), medians; ` +
        `workers ${workers || 'default'}; output ${noFsync ? 'NOT fsynced (--no-fsync, measurement only)' : 'fsynced before the rename'}\n`,
    );
    process.stdout.write('N   read-once s  average s  ratio  MB/s(in)  peak RSS MiB  extra RSS MiB  (bound: 2x largest tensor + 64 MiB)\n');
    const summary: string[] = [];
    for (const n of counts) {
      const inputs = files.slice(0, n);
      const cat = (): number => {
        const t = performance.now();
        const r = spawnSync('sh', ['-c', 'cat "$@" > /dev/null', 'cat', ...inputs]);
        if (r.status !== 0) throw new Error(`cat failed: ${r.stderr}`);
        return (performance.now() - t) / 1000;
      };
      const out = join(dir, `avg-${n}.safetensors`);
      const average = (): ChildResult => {
        const r = spawnSync(process.execPath, [script, '--child', ...passed, '--out', out, '--inputs', ...inputs], { encoding: 'utf8', maxBuffer: 1 << 20 });
        if (r.status !== 0) throw new Error(`averaging failed: ${r.stderr}`);
        return JSON.parse(r.stdout) as ChildResult;
      };
      cat(); // warm the page cache so that every measurement reads from memory
      const reads: number[] = [];
      const runs: ChildResult[] = [];
      const ratios: number[] = [];
      let before = cat();
      for (let k = 0; k < reps; k++) {
        const run = average();
        await rm(out, { force: true });
        const after = cat();
        reads.push(before, after);
        runs.push(run);
        ratios.push(run.seconds / ((before + after) / 2));
        before = after;
      }
      const seconds = median(runs.map((r) => r.seconds));
      const peak = Math.max(...runs.map((r) => r.maxRssKiB)) / 1024;
      const extra = Math.max(...runs.map((r) => r.maxRssKiB - r.baseRssKiB)) / 1024;
      const ratio = median(ratios);
      process.stdout.write(
        `${String(n).padEnd(3)} ${median(reads).toFixed(3).padStart(11)}  ${seconds.toFixed(3).padStart(9)}  ${ratio.toFixed(2).padStart(5)}  ` +
          `${((n * sizeMb) / seconds).toFixed(0).padStart(8)}  ${peak.toFixed(0).padStart(12)}  ${extra.toFixed(0).padStart(13)}  (${boundMiB.toFixed(0)})\n`,
      );
      summary.push(
        `ratio n=${n} average/read-once=${ratio.toFixed(2)}${noFsync ? ' (no fsync)' : ''} (per run: ${ratios.map((r) => r.toFixed(2)).join(', ')}) ` +
          `peak RSS ${peak.toFixed(0)} MiB, extra RSS ${extra.toFixed(0)} MiB (bound ${boundMiB.toFixed(0)} MiB)\n`,
      );
    }
    for (const line of summary) process.stdout.write(line);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await (process.argv.includes('--child') ? child() : main());
