/*
 * The body of the helper threads of parallel averaging (parallel-average.ts). It is one self-contained function,
 * started as `new Worker(source, { eval: true })` from its own text: it imports nothing, so it runs the same
 * from the TypeScript sources (tests) and from dist, and a thread starts in milliseconds instead of loading
 * `@xlt/core` (over half a second). It only does what the SIMD module (simd-kernels.ts, posted to it compiled)
 * covers: F32, BF16 or F64 in; F32 or F64 out. Every other case runs on the main thread.
 */

/** What a helper thread is given (`workerData`). */
export interface AverageWorkerData {
  /** The compiled `WebAssembly.Module` of simd-kernels.ts. */
  readonly module: object;
  /** Elements per chunk: the accumulator and input buffers hold this many. */
  readonly chunk: number;
  readonly weights: readonly number[];
  readonly outFd: number;
  readonly rejectNaN: boolean;
  readonly tensors: readonly WorkerTensor[];
  /** Blocks of the shared queue, three numbers each: tensor index, first element, element count. */
  readonly blocks: Float64Array;
  /** `[next block, finished blocks, abort]`, shared with the main thread and every helper. */
  readonly counters: Int32Array;
}

/** One tensor as a helper thread sees it: where it is in every input and in the output. */
export interface WorkerTensor {
  readonly inKind: 'f32' | 'bf16' | 'f64';
  readonly outKind: 'F32' | 'F64';
  /** One open file descriptor per input (threads share the process's descriptors). */
  readonly fds: readonly number[];
  /** Absolute byte offset of the tensor's first byte in each input. */
  readonly starts: readonly number[];
  readonly outPosition: number;
}

/** What a helper thread posts when its queue is empty or it stops. */
export type AverageWorkerMessage =
  | { readonly type: 'idle' }
  | { readonly type: 'nonfinite'; readonly tensor: number; readonly input: number; readonly index: number; readonly value: number }
  | { readonly type: 'error'; readonly message: string };

/** Indexes of {@link AverageWorkerData.counters}. */
export const NEXT_BLOCK = 0;
export const FINISHED_BLOCKS = 1;
export const ABORT = 2;

interface WasmLike {
  Memory: new (limits: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
  Instance: new (module: object, imports: object) => { exports: Record<string, (a: number, b: number, c: number, d: number) => void> };
}
interface NodeLike {
  getBuiltinModule(name: 'node:fs'): {
    readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
    writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  };
  getBuiltinModule(name: 'node:worker_threads'): { workerData: AverageWorkerData; parentPort: { postMessage(message: AverageWorkerMessage): void } };
}

/**
 * The thread's whole program: claims blocks of the shared queue until it is empty, and for each reads every
 * input's slice (positioned reads), accumulates `sum(weight * value)` in float64 in input order (the same
 * operations as the main thread, so the bytes are identical), rounds and writes the slice at its place in the
 * output. A partial last group of 4 is zero-padded: the extra lanes are computed and never written.
 */
function averageWorkerMain(): void {
  const node = process as unknown as NodeLike;
  const fs = node.getBuiltinModule('node:fs');
  const { workerData, parentPort } = node.getBuiltinModule('node:worker_threads');
  const { chunk, weights, outFd, rejectNaN, tensors, blocks, counters } = workerData;
  // the indexes of `counters` (NEXT_BLOCK, FINISHED_BLOCKS, ABORT), repeated: this function sees no module scope
  const [next, finished, abort] = [0, 1, 2];
  const sizes = { f32: 4, bf16: 2, f64: 8 } as const;
  const accBytes = Math.ceil((chunk + 4) * 8 / 16) * 16;
  const pages = Math.ceil((2 * accBytes) / 65536);
  const wasm = (globalThis as unknown as { WebAssembly: WasmLike }).WebAssembly;
  const memory = new wasm.Memory({ initial: pages, maximum: pages });
  const kernels = new wasm.Instance(workerData.module, { m: { memory } }).exports;
  const bytes = new Uint8Array(memory.buffer);
  const input = accBytes;
  const readFully = (fd: number, length: number, position: number): void => {
    let done = 0;
    while (done < length) {
      const n = fs.readSync(fd, bytes, input + done, length - done, position + done);
      if (n === 0) throw new Error(`end of file at byte ${position + done} of an input (was it truncated while open?)`);
      done += n;
    }
  };
  try {
    for (;;) {
      if (Atomics.load(counters, abort) !== 0) break;
      const k = Atomics.add(counters, next, 1);
      if (3 * k >= blocks.length) break;
      const t = tensors[blocks[3 * k]!]!;
      const first = blocks[3 * k + 1]!;
      const count = blocks[3 * k + 2]!;
      const padded = Math.ceil(count / 4) * 4;
      const size = sizes[t.inKind];
      for (let j = 0; j < weights.length; j++) {
        readFully(t.fds[j]!, count * size, t.starts[j]! + first * size);
        bytes.fill(0, input + count * size, input + padded * size);
        if (rejectNaN) {
          const view = new DataView(memory.buffer, input, count * size);
          for (let i = 0; i < count; i++) {
            let value = 0;
            if (size === 4) value = view.getFloat32(4 * i, true);
            else if (size === 8) value = view.getFloat64(8 * i, true);
            else {
              const h = view.getUint16(2 * i, true);
              if ((h & 0x7f80) === 0x7f80) value = h & 0x7f ? NaN : h & 0x8000 ? -Infinity : Infinity;
            }
            if (!Number.isFinite(value)) {
              Atomics.store(counters, abort, 1);
              parentPort.postMessage({ type: 'nonfinite', tensor: blocks[3 * k]!, input: j, index: first + i, value });
              return;
            }
          }
        }
        kernels[`${j === 0 ? 'set' : 'add'}_${t.inKind}`]!(0, input, weights[j]!, input + padded * size);
      }
      let outSize = 8;
      if (t.outKind === 'F32') {
        kernels.demote!(0, 0, 0, padded * 4);
        outSize = 4;
      }
      let done = 0;
      const length = count * outSize;
      const position = t.outPosition + first * outSize;
      while (done < length) done += fs.writeSync(outFd, bytes, done, length - done, position + done);
      Atomics.add(counters, finished, 1);
    }
    parentPort.postMessage({ type: 'idle' });
  } catch (error) {
    Atomics.store(counters, abort, 1);
    parentPort.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  }
}

/** The source text a helper thread runs (`eval: true`). */
export const AVERAGE_WORKER_SOURCE = `(${averageWorkerMain.toString()})();\n`;
