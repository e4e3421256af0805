/**
 * Benchmark of streaming averaging: `npx nx run averaging:bench [-- --size-mb 64 --counts 2,8,32]`.
 * For each N it writes N checkpoints of the given size (F32), then times in the same run (warm page cache):
 * reading the files once (`cat files > /dev/null`, the I/O floor) and averaging them in a child process, and
 * prints the averaging time, its ratio to the read time, and the child's peak RSS against the largest tensor.
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
const TENSOR_ELEMENTS = 4 * MiB; // 16 MiB F32 tensors, the size of a BERT-base embedding matrix's order.

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

async function child(): Promise<void> {
  const out = arg('out', '');
  const inputs = process.argv.slice(process.argv.indexOf('--inputs') + 1);
  const start = performance.now();
  await averageCheckpoints(inputs.map((path) => ({ path, weight: 1 })), out);
  const seconds = (performance.now() - start) / 1000;
  process.stdout.write(JSON.stringify({ seconds, maxRssKiB: process.resourceUsage().maxRSS }));
}

async function main(): Promise<void> {
  const sizeMb = Number(arg('size-mb', '64'));
  const counts = arg('counts', '2,8,32').split(',').map(Number);
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
    process.stdout.write(`checkpoint: ${sizeMb} MiB F32 in ${tensors} tensor(s) of ${((perTensor * 4) / MiB).toFixed(1)} MiB\n`);
    process.stdout.write('N   read-once s  average s  ratio  MB/s(in)  peak RSS MiB  (2x largest tensor + 64 MiB)\n');
    for (const n of counts) {
      const inputs = files.slice(0, n);
      const cat = (): number => {
        const t = performance.now();
        const r = spawnSync('sh', ['-c', 'cat "$@" > /dev/null', 'cat', ...inputs]);
        if (r.status !== 0) throw new Error(`cat failed: ${r.stderr}`);
        return (performance.now() - t) / 1000;
      };
      cat(); // warm the page cache so both measurements read from memory
      const readSeconds = cat();
      const out = join(dir, `avg-${n}.safetensors`);
      const r = spawnSync(process.execPath, [script, '--child', '--out', out, '--inputs', ...inputs], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (r.status !== 0) throw new Error(`averaging failed: ${r.stderr}`);
      const { seconds, maxRssKiB } = JSON.parse(r.stdout) as { seconds: number; maxRssKiB: number };
      await rm(out, { force: true });
      const bound = (2 * perTensor * 4 + 64 * MiB) / MiB;
      process.stdout.write(
        `${String(n).padEnd(3)} ${readSeconds.toFixed(3).padStart(11)}  ${seconds.toFixed(3).padStart(9)}  ${(seconds / readSeconds).toFixed(1).padStart(5)}  ` +
          `${((n * sizeMb) / seconds).toFixed(0).padStart(8)}  ${(maxRssKiB / 1024).toFixed(0).padStart(12)}  (${bound.toFixed(0)})\n`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await (process.argv.includes('--child') ? child() : main());
