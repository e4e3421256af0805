import { writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import {
  DTYPE_SIZES,
  InputError,
  XltError,
  elementCount,
  writeTensorData,
  type FloatDtype,
  type PlacedTensor,
  type SafetensorsCheckpoint,
} from '@xlt/plugin-api';
import { ChunkAccumulator, firstNonFiniteStored } from './accumulate.js';
import { ABORT, AVERAGE_WORKER_SOURCE, FINISHED_BLOCKS, NEXT_BLOCK, type AverageWorkerData, type AverageWorkerMessage, type WorkerTensor } from './average-worker.js';
import { simdModule } from './simd-kernels.js';

/*
 * Parallel averaging: the output's float tensors are cut into blocks of `chunk` elements, and the main thread
 * and `threads - 1` helper threads (average-worker.ts) claim blocks from one shared counter; each reads its
 * block from every input, accumulates and writes it at its place in the output file with positioned writes, so
 * reads, arithmetic and the copy into the page cache all run on every core. Claiming block by block balances the
 * load by itself (a helper that starts late, or a core that other work takes, just does fewer blocks), and every
 * element is summed in input order by the same IEEE operations, so the bytes equal the single-thread ones.
 */

/**
 * For tests: with `mainClaimsShared` false the main thread leaves every block the helpers can take to them, so a
 * test of their bytes cannot pass because the main thread did all the work before they started.
 */
export const parallelTesting = { mainClaimsShared: true };

/** What {@link parallelDataWriter} averages. */
export interface ParallelAverage {
  readonly inputs: readonly SafetensorsCheckpoint[];
  readonly weights: readonly number[];
  /** Output dtype of each float tensor to average, by name; other tensors are written from their own source. */
  readonly averaged: ReadonlyMap<string, FloatDtype>;
  readonly chunk: number;
  /** Threads in all, the main one included. */
  readonly threads: number;
  readonly simd: boolean;
  readonly rejectNaN: boolean;
}

/** The error for a NaN or infinity found by `rejectNaN`, naming the file, tensor, element and byte. */
export function nonFiniteError(input: SafetensorsCheckpoint, name: string, index: number, value: number): InputError {
  const t = input.tensors.get(name)!;
  return new InputError([
    {
      file: t.file,
      path: `${JSON.stringify(name)}[${index}] (byte ${t.start + index * DTYPE_SIZES[t.dtype]})`,
      expected: 'a finite value (NaN and infinity are refused; --allow-non-finite averages them)',
      found: String(value),
    },
  ]);
}

function writeFully(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done, position + done);
}

const KINDS: Partial<Record<FloatDtype, WorkerTensor['inKind']>> = { F32: 'f32', BF16: 'bf16', F64: 'f64' };

/**
 * A `writeData` for `writeSafetensors` / `writeShardedSafetensors` that averages the float tensors of the file
 * on {@link ParallelAverage.threads} threads (see above) and writes the others from their data sources.
 */
export function parallelDataWriter(job: ParallelAverage): (handle: FileHandle, placed: readonly PlacedTensor[], path: string) => Promise<void> {
  let sum: ChunkAccumulator | undefined;
  return async (handle, placed, path) => {
    const mine = placed.filter((p) => job.averaged.has(p.tensor.name));
    for (const p of placed) if (!job.averaged.has(p.tensor.name)) await writeTensorData(handle, p.tensor, p.position, path);
    if (mine.length === 0) return;
    const largest = Math.max(...mine.map((p) => elementCount(p.tensor.shape)));
    const elements = Math.max(1, Math.min(job.chunk, largest));
    sum ??= new ChunkAccumulator(elements, elements * 8, elements * 8, { simd: job.simd });
    const module = job.simd ? simdModule() : null;
    const ref = job.inputs[0]!;
    // blocks: tensor index (into `mine`), first element, count; helpers take only what the SIMD module covers
    const shared: number[] = [];
    const mainOnly: number[] = [];
    const helperTensors: WorkerTensor[] = [];
    const helperIndex: number[] = [];
    mine.forEach((p, i) => {
      const inDtype = ref.tensors.get(p.tensor.name)!.dtype as FloatDtype;
      const outDtype = job.averaged.get(p.tensor.name)!;
      const kind = KINDS[inDtype];
      const helped = module !== null && job.threads > 1 && kind !== undefined && (outDtype === 'F32' || outDtype === 'F64');
      if (helped) {
        helperIndex[helperTensors.length] = i;
        helperTensors.push({
          inKind: kind,
          outKind: outDtype,
          fds: job.inputs.map((c) => c.fileOf(p.tensor.name).fd),
          starts: job.inputs.map((c) => c.tensors.get(p.tensor.name)!.start),
          outPosition: p.position,
        });
      }
      const n = elementCount(p.tensor.shape);
      for (let first = 0; first < n; first += elements) {
        if (helped) shared.push(helperTensors.length - 1, first, Math.min(elements, n - first));
        else mainOnly.push(i, first, Math.min(elements, n - first));
      }
    });
    const fd = handle.fd;
    const averageBlock = (i: number, first: number, count: number): void => {
      const p = mine[i]!;
      const name = p.tensor.name;
      const inDtype = ref.tensors.get(name)!.dtype as FloatDtype;
      const outDtype = job.averaged.get(name)!;
      const inSize = DTYPE_SIZES[inDtype];
      const bytes = sum!.input.subarray(0, count * inSize);
      for (let j = 0; j < job.inputs.length; j++) {
        job.inputs[j]!.readIntoSync(name, bytes, first * inSize);
        if (job.rejectNaN) {
          const bad = firstNonFiniteStored(bytes, inDtype, count);
          if (bad) throw nonFiniteError(job.inputs[j]!, name, first + bad.index, bad.value);
        }
        sum!.add(bytes, inDtype, job.weights[j]!, count, j === 0);
      }
      writeFully(fd, sum!.encode(outDtype, count, 0), p.position + first * DTYPE_SIZES[outDtype]);
    };

    const blocks = new Float64Array(shared);
    const total = blocks.length / 3;
    const counters = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
    let failure: Error | undefined;
    let wake = (): void => {};
    const helpers: Worker[] = [];
    const helperCount = total > 1 ? Math.min(job.threads - 1, total - 1) : 0;
    for (let h = 0; h < helperCount; h++) {
      const workerData: AverageWorkerData = { module: module!, chunk: elements, weights: job.weights, outFd: fd, rejectNaN: job.rejectNaN, tensors: helperTensors, blocks, counters };
      const worker = new Worker(AVERAGE_WORKER_SOURCE, { eval: true, workerData });
      worker.on('message', (m: AverageWorkerMessage) => {
        if (m.type === 'nonfinite') {
          failure ??= nonFiniteError(job.inputs[m.input]!, mine[helperIndex[m.tensor]!]!.tensor.name, m.index, m.value);
        } else if (m.type === 'error') {
          failure ??= new XltError(`${path}: an averaging thread failed: ${m.message}`);
        }
        wake();
      });
      worker.on('error', (error) => {
        failure ??= new XltError(`${path}: an averaging thread failed: ${error.message}`);
        Atomics.store(counters, ABORT, 1);
        wake();
      });
      worker.on('exit', (code) => {
        if (code !== 0 && Atomics.load(counters, ABORT) === 0) failure ??= new XltError(`${path}: an averaging thread stopped (exit code ${code})`);
        wake();
      });
      helpers.push(worker);
    }
    try {
      for (let b = 0; b < mainOnly.length; b += 3) {
        if (Atomics.load(counters, ABORT) !== 0) break;
        averageBlock(mainOnly[b]!, mainOnly[b + 1]!, mainOnly[b + 2]!);
      }
      for (;;) {
        if (Atomics.load(counters, ABORT) !== 0 || (!parallelTesting.mainClaimsShared && helpers.length > 0)) break;
        const k = Atomics.add(counters, NEXT_BLOCK, 1);
        if (k >= total) break;
        averageBlock(helperIndex[blocks[3 * k]!]!, blocks[3 * k + 1]!, blocks[3 * k + 2]!);
        Atomics.add(counters, FINISHED_BLOCKS, 1);
      }
      // helpers still on a block post when done; one still starting never claims one and is just stopped
      while (failure === undefined && Atomics.load(counters, FINISHED_BLOCKS) < total) {
        await new Promise<void>((resolve) => (wake = resolve));
      }
      if (failure) throw failure;
    } catch (error) {
      Atomics.store(counters, ABORT, 1);
      throw error;
    } finally {
      // the file is closed after this: no thread may still write to it
      await Promise.all(helpers.map((w) => w.terminate()));
    }
  };
}
