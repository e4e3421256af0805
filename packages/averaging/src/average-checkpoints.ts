import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { TOKENIZER_FILE_NAMES } from '@xlt/plugin-api';
import {
  DTYPE_SIZES,
  InputError,
  XltError,
  elementCount,
  isFloatDtype,
  openCheckpoint,
  tempPathFor,
  writeSafetensors,
  writeShardedSafetensors,
  type CheckpointTensor,
  type FloatDtype,
  type SafetensorsCheckpoint,
  type TensorToWrite,
  type WeightedCheckpoint,
  type WriteSafetensorsOptions,
} from '@xlt/plugin-api';
import { ChunkAccumulator, firstNonFiniteStored } from './accumulate.js';
import { nonFiniteError, parallelDataWriter } from './parallel-average.js';

/** One input of an average: a checkpoint path (file or HF folder) and its weight. */
export interface WeightedPath {
  readonly path: string;
  readonly weight: number;
}

/** Options of {@link averageCheckpoints}. */
export interface AverageOptions {
  /** Output dtype of float tensors; default: each tensor's input dtype. */
  readonly dtype?: FloatDtype;
  /** Fail (naming the tensor, element and file) when an input holds NaN or an infinity. */
  readonly rejectNaN?: boolean;
  /**
   * Elements per streamed chunk (default 32 Ki). Memory is about `8 + input element size` bytes per element (a
   * float64 accumulator and one input slice) plus a 256 KiB output buffer, whatever the number of inputs.
   */
  readonly chunkElements?: number;
  /** Use the WebAssembly SIMD loops when available (default); false forces the plain JS loops (same results). */
  readonly simd?: boolean;
  /**
   * Threads that average, the main one included (same bytes for any number). Default: up to 4 (as many as there
   * are cores) when the inputs hold at least 1 GiB, else 1. 1 streams on the main thread only. Helper threads
   * take tensors stored as F32, BF16 or F64 and written as F32 or F64 with SIMD; the others stay on the main thread.
   */
  readonly workers?: number;
  /**
   * Flush the output to disk before the atomic rename (default true). False is for benchmarks that measure the
   * flush alone: a crash could then leave an empty or partial file under the final name.
   */
  readonly fsync?: boolean;
  /** Largest shard of a folder output; default: the largest shard of the first input (unsharded input: no limit). */
  readonly maxShardBytes?: number;
  /** Replace an existing output file or folder (atomically); without it an existing output is an error. */
  readonly overwrite?: boolean;
  /** Extra `__metadata__` entries of the output. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** What {@link averageCheckpoints} wrote. */
export interface AverageResult {
  /** The output file or folder. */
  readonly out: string;
  /** Normalised inputs actually averaged: a path given twice is one input with the summed weight (it counts twice). */
  readonly inputs: readonly WeightedPath[];
  readonly tensors: number;
  readonly bytesWritten: number;
}

/**
 * Files of an HF model folder copied from the first input into an averaged folder: the config and the tokenizer.
 * Optimizer, scheduler and trainer state are not, since they belong to one run, not to the average.
 */
export const COPIED_MODEL_FILES: readonly string[] = ['config.json', 'generation_config.json', ...TOKENIZER_FILE_NAMES];

/**
 * 32 Ki elements: a chunk's accumulator (256 KiB) and one input's slice of it (128 KiB of F32) stay in the L2
 * cache, and reads that small are copied out of the page cache several times faster than reads of megabytes.
 */
const DEFAULT_CHUNK = 1 << 15;
/**
 * Output is gathered into writes of 256 KiB: few enough thread-pool round trips, and a source buffer that stays
 * in the cache (writing 64 MiB from 4 MiB buffers measured 1.5-3x slower).
 */
const OUTPUT_BYTES = 256 << 10;
/**
 * Below this much input, starting helper threads costs more than they save (measured: 2 x 64 MiB 1.6x slower
 * with a helper, 8 x 64 MiB no gain, 32 x 64 MiB 1.5x faster, on a loaded 2-core VM).
 */
const PARALLEL_INPUT_BYTES = 1 << 30;
/** Beyond a few threads the copies out of the page cache are bound by memory bandwidth. */
const MAX_THREADS = 4;

/**
 * The plan's paths with their weights as given, a path given twice once with the summed weight (it counts twice);
 * refuses a weight that is not a finite non-negative number. Shared by the averager and the merge executor.
 */
export function summedWeights(plan: readonly (WeightedCheckpoint | WeightedPath)[]): WeightedPath[] {
  const merged = new Map<string, number>();
  for (const item of plan) {
    const path = 'checkpoint' in item ? item.checkpoint.path : item.path;
    if (typeof item.weight !== 'number' || !Number.isFinite(item.weight) || item.weight < 0) {
      throw new XltError(`Weight of ${path} must be a finite non-negative number, found ${item.weight}`);
    }
    merged.set(path, (merged.get(path) ?? 0) + item.weight);
  }
  return [...merged].map(([path, weight]) => ({ path, weight }));
}

function normalisePlan(plan: readonly (WeightedCheckpoint | WeightedPath)[]): WeightedPath[] {
  if (plan.length === 0) throw new XltError('Nothing to average: the plan is empty');
  const inputs = summedWeights(plan);
  const sum = inputs.reduce((a, b) => a + b.weight, 0);
  if (!(sum > 0)) throw new XltError(`The weights of the plan sum to ${sum}; at least one must be positive`);
  return inputs.filter((i) => i.weight > 0).map(({ path, weight }) => ({ path, weight: weight / sum }));
}

/** Tensors of one checkpoint grouped by stored byte range: tied names share one group. */
function tieKey(t: CheckpointTensor): string {
  return t.end > t.start ? `${t.file}\0${t.start}` : `\0${t.name}`;
}

/** Checks that every input has the reference's names, dtypes, shapes and ties; errors name tensor and both files. */
function checkCompatible(inputs: readonly SafetensorsCheckpoint[]): void {
  const [ref, ...rest] = inputs;
  const refTies = new Map<string, string>();
  const firstOfGroup = new Map<string, string>();
  for (const t of ref!.tensors.values()) {
    const key = tieKey(t);
    if (!firstOfGroup.has(key)) firstOfGroup.set(key, t.name);
    refTies.set(t.name, firstOfGroup.get(key)!);
  }
  for (const other of rest) {
    const issues = [];
    for (const t of ref!.tensors.values()) {
      const o = other.tensors.get(t.name);
      if (!o) {
        issues.push({ file: other.path, path: JSON.stringify(t.name), expected: `tensor ${JSON.stringify(t.name)} as in ${ref!.path}`, found: 'no such tensor' });
      } else if (o.dtype !== t.dtype || o.shape.join() !== t.shape.join()) {
        issues.push({
          file: other.path,
          path: JSON.stringify(t.name),
          expected: `${t.dtype} [${t.shape.join(', ')}] as in ${ref!.path}`,
          found: `${o.dtype} [${o.shape.join(', ')}]`,
        });
      }
    }
    for (const name of other.tensors.keys()) {
      if (!ref!.tensors.has(name)) issues.push({ file: other.path, path: JSON.stringify(name), expected: `only the tensors of ${ref!.path}`, found: 'an extra tensor' });
    }
    if (issues.length === 0) {
      const otherFirst = new Map<string, string>();
      for (const t of other.tensors.values()) {
        const key = tieKey(t);
        if (!otherFirst.has(key)) otherFirst.set(key, t.name);
        const tiedTo = otherFirst.get(key)!;
        if (tiedTo !== refTies.get(t.name)) {
          issues.push({
            file: other.path,
            path: JSON.stringify(t.name),
            expected: `the same weight tying as ${ref!.path} (${refTies.get(t.name) === t.name ? 'stored on its own' : `sharing bytes with ${JSON.stringify(refTies.get(t.name))}`})`,
            found: tiedTo === t.name ? 'stored on its own' : `sharing bytes with ${JSON.stringify(tiedTo)}`,
          });
        }
      }
    }
    if (issues.length) throw new InputError(issues.slice(0, 20), `Checkpoints ${ref!.path} and ${other.path} cannot be averaged`);
  }
}

/**
 * Streams the weighted mean of one float tensor in chunks: each input's slice of the chunk is read (a small
 * synchronous positioned read, so the bytes are still in the CPU cache) and accumulated in float64 at once; the
 * rounded chunks are gathered into large output writes.
 */
async function* averageTensor(
  name: string,
  inputs: readonly SafetensorsCheckpoint[],
  weights: readonly number[],
  outDtype: FloatDtype,
  options: AverageOptions,
  sum: ChunkAccumulator,
): AsyncGenerator<Uint8Array> {
  const info = inputs[0]!.tensors.get(name)!;
  const inDtype = info.dtype as FloatDtype;
  const inSize = DTYPE_SIZES[inDtype];
  const outSize = DTYPE_SIZES[outDtype];
  const n = elementCount(info.shape);
  const chunk = sum.acc.length;
  let filled = 0;
  for (let first = 0; first < n; first += chunk) {
    const count = Math.min(chunk, n - first);
    const bytes = sum.input.subarray(0, count * inSize);
    for (let j = 0; j < inputs.length; j++) {
      inputs[j]!.readIntoSync(name, bytes, first * inSize);
      if (options.rejectNaN) {
        const bad = firstNonFiniteStored(bytes, inDtype, count);
        if (bad) throw nonFiniteError(inputs[j]!, name, first + bad.index, bad.value);
      }
      sum.add(bytes, inDtype, weights[j]!, count, j === 0);
    }
    if (filled + count * outSize > sum.output.byteLength) {
      yield sum.output.subarray(0, filled);
      filled = 0;
    }
    sum.encode(outDtype, count, filled);
    filled += count * outSize;
  }
  if (filled > 0) yield sum.output.subarray(0, filled);
}

/** Streams a non-float tensor, which must be byte-identical in every input (ids, masks, position buffers). */
async function* copyIfEqual(name: string, inputs: readonly SafetensorsCheckpoint[], chunkBytes: number): AsyncGenerator<Uint8Array> {
  const info = inputs[0]!.tensors.get(name)!;
  const total = info.end - info.start;
  const first = new Uint8Array(Math.min(chunkBytes, total));
  const other = new Uint8Array(first.length);
  for (let offset = 0; offset < total; offset += first.length) {
    const count = Math.min(first.length, total - offset);
    const a = first.subarray(0, count);
    await inputs[0]!.readInto(name, a, offset);
    for (const input of inputs.slice(1)) {
      const b = other.subarray(0, count);
      await input.readInto(name, b, offset);
      const at = a.findIndex((x, i) => x !== b[i]);
      if (at >= 0) {
        const t = input.tensors.get(name)!;
        const element = Math.floor((offset + at) / DTYPE_SIZES[info.dtype]);
        throw new InputError([
          {
            file: t.file,
            path: `${JSON.stringify(name)}[${element}] (byte ${t.start + offset + at})`,
            expected: `the same ${info.dtype} values as ${inputs[0]!.tensors.get(name)!.file} (integer tensors cannot be averaged, only copied when equal)`,
            found: 'a different value',
          },
        ]);
      }
    }
    yield a;
  }
}

/** The tensors of the output, in the reference's order, each with its streaming data source. */
function outputTensors(inputs: readonly SafetensorsCheckpoint[], weights: readonly number[], options: AverageOptions): TensorToWrite[] {
  const chunk = options.chunkElements ?? DEFAULT_CHUNK;
  const ref = inputs[0]!;
  // One set of buffers for the whole run, sized by the largest float tensor (small models stay small): memory
  // does not grow with the number of inputs or the size of the tensors.
  let largest = 0;
  let widest = 0;
  for (const t of ref.tensors.values()) {
    if (!isFloatDtype(t.dtype)) continue;
    largest = Math.max(largest, elementCount(t.shape));
    widest = Math.max(widest, DTYPE_SIZES[t.dtype]);
  }
  const accElements = Math.max(1, Math.min(chunk, largest));
  const sum = new ChunkAccumulator(accElements, accElements * Math.max(widest, 1), Math.max(OUTPUT_BYTES, accElements * 8), { simd: options.simd ?? true });
  const firstOfGroup = new Map<string, string>();
  const out: TensorToWrite[] = [];
  const ordered = [...ref.tensors.values()].sort((a, b) => ref.files.findIndex((f) => f.path === a.file) - ref.files.findIndex((f) => f.path === b.file) || a.start - b.start);
  for (const t of ordered) {
    const key = tieKey(t);
    const tiedTo = firstOfGroup.get(key);
    const floating = isFloatDtype(t.dtype);
    const dtype = floating ? (options.dtype ?? (t.dtype as FloatDtype)) : t.dtype;
    if (tiedTo !== undefined) {
      out.push({ name: t.name, dtype, shape: t.shape, tiedTo });
      continue;
    }
    firstOfGroup.set(key, t.name);
    out.push({
      name: t.name,
      dtype,
      shape: t.shape,
      data: floating
        ? () => averageTensor(t.name, inputs, weights, dtype as FloatDtype, options, sum)
        : () => copyIfEqual(t.name, inputs, chunk * 8),
    });
  }
  return out;
}

async function openAll(paths: readonly string[]): Promise<SafetensorsCheckpoint[]> {
  const opened: SafetensorsCheckpoint[] = [];
  try {
    for (const p of paths) opened.push(await openCheckpoint(p));
    return opened;
  } catch (error) {
    await Promise.all(opened.map((c) => c.close()));
    throw error;
  }
}

/**
 * Averages checkpoints by streaming: for every tensor, chunk by chunk, each input's slice is read with a small
 * positioned read and accumulated at once, while still in the CPU cache, as `sum(weight * value)` in float64
 * (WebAssembly SIMD where available, bit-identical JS loops otherwise), and written in the output dtype
 * (rounded once, to nearest even). Extra memory is a fixed set of buffers (under 1 MiB by default: see
 * `chunkElements`), whatever the number of inputs and the size of the tensors. Weights are normalised to sum to 1.
 *
 * Float tensors (F16, BF16, F32, F64) are averaged; other dtypes are copied when equal in every input, else an
 * error. Names that share one byte range (tied weights) are averaged once and written tied, as in the input.
 *
 * Output: when the first input is an HF model folder, `outPath` becomes a complete model folder (weights sharded
 * like the input, plus {@link COPIED_MODEL_FILES} from the first input), built in a temporary folder and renamed;
 * otherwise a single `.safetensors` file written atomically. On any error nothing appears at `outPath`.
 */
export async function averageCheckpoints(
  plan: readonly (WeightedCheckpoint | WeightedPath)[],
  outPath: string,
  options: AverageOptions = {},
): Promise<AverageResult> {
  const inputs = normalisePlan(plan);
  if (options.chunkElements !== undefined && !(Number.isInteger(options.chunkElements) && options.chunkElements > 0)) {
    throw new XltError(`chunkElements must be a positive integer, found ${options.chunkElements}`);
  }
  if (options.workers !== undefined && !(Number.isInteger(options.workers) && options.workers > 0)) {
    throw new XltError(`workers must be a positive integer, found ${options.workers}`);
  }
  const checkpoints = await openAll(inputs.map((i) => i.path));
  try {
    checkCompatible(checkpoints);
    const ref = checkpoints[0]!;
    const tensors = outputTensors(checkpoints, inputs.map((i) => i.weight), options);
    const metadata: Record<string, string> = {
      ...(ref.metadata.format ? { format: ref.metadata.format } : {}),
      xlt_average: JSON.stringify(inputs),
      ...options.metadata,
    };
    const bytesWritten = tensors.reduce((n, t) => n + (t.tiedTo ? 0 : elementCount(t.shape) * DTYPE_SIZES[t.dtype]), 0);
    const averaged = new Map<string, FloatDtype>();
    let inputBytes = 0;
    for (const t of tensors) {
      const info = ref.tensors.get(t.name)!;
      if (t.tiedTo === undefined && isFloatDtype(info.dtype)) {
        averaged.set(t.name, t.dtype as FloatDtype);
        inputBytes += (info.end - info.start) * checkpoints.length;
      }
    }
    const threads = options.workers ?? (inputBytes >= PARALLEL_INPUT_BYTES ? Math.min(MAX_THREADS, availableParallelism()) : 1);
    const write = {
      sync: options.fsync !== false,
      ...(threads > 1
        ? {
            writeData: parallelDataWriter({
              inputs: checkpoints,
              weights: inputs.map((i) => i.weight),
              averaged,
              chunk: options.chunkElements ?? DEFAULT_CHUNK,
              threads,
              simd: options.simd ?? true,
              rejectNaN: options.rejectNaN ?? false,
            }),
          }
        : {}),
    };
    if (ref.folder === undefined) {
      if (existsSync(outPath) && !options.overwrite) throw new XltError(`Output ${outPath} already exists; choose another --out or pass overwrite`);
      await writeSafetensors(outPath, tensors, metadata, write);
    } else {
      await writeModelFolder(ref, outPath, tensors, metadata, options, write);
    }
    return { out: outPath, inputs, tensors: tensors.length, bytesWritten };
  } finally {
    await Promise.all(checkpoints.map((c) => c.close()));
  }
}

/**
 * Writes `tensors` as a complete HF model folder at `outPath`, sharded like `ref` (or by `maxShardBytes`), with
 * {@link COPIED_MODEL_FILES} copied from `ref`'s folder: built in a temporary folder beside it and renamed, so a
 * failure leaves nothing at `outPath`. An existing non-empty folder is replaced only with `overwrite`. Shared with
 * the merge executor (`mergeCheckpoints`).
 */
export async function writeModelFolder(
  ref: SafetensorsCheckpoint,
  outPath: string,
  tensors: TensorToWrite[],
  metadata: Record<string, string>,
  options: Pick<AverageOptions, 'maxShardBytes' | 'overwrite'>,
  write: WriteSafetensorsOptions,
): Promise<void> {
  if (existsSync(outPath)) {
    const isDir = (await stat(outPath)).isDirectory();
    if (!isDir || (!options.overwrite && (await readdir(outPath)).length > 0)) {
      throw new XltError(`Output ${outPath} already exists${isDir ? ' and is not empty' : ''}; choose another --out or pass overwrite`);
    }
  }
  const shardLimit =
    options.maxShardBytes ?? (ref.files.length > 1 ? Math.max(...ref.files.map((f) => f.size - ([...f.tensors.values()][0]?.start ?? f.size))) : Infinity);
  const tmp = tempPathFor(outPath);
  await mkdir(tmp, { recursive: true });
  try {
    const folder = ref.folder!;
    for (const name of COPIED_MODEL_FILES) {
      if (existsSync(join(folder, name))) await copyFile(join(folder, name), join(tmp, name));
    }
    await writeShardedSafetensors(tmp, tensors, { maxShardBytes: shardLimit, metadata, ...write });
    if (existsSync(outPath)) {
      const old = tempPathFor(outPath);
      await rename(outPath, old);
      await rename(tmp, outPath);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, outPath);
    }
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}
