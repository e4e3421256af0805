import { existsSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import {
  DTYPE_SIZES,
  InputError,
  XltError,
  elementCount,
  isFloatDtype,
  openCheckpoint,
  writeSafetensors,
  type CheckpointTensor,
  type FloatDtype,
  type MergeMethod,
  type MergeTensorValues,
  type PluginRegistry,
  type SafetensorsCheckpoint,
  type TensorToWrite,
  type WeightedCheckpoint,
} from '@xlt/plugin-api';
import { summedWeights, writeModelFolder, type WeightedPath } from '../average-checkpoints.js';
import { checkFinite, checkInputs, copyIfEqual, readValues, tieKey } from './merge-inputs.js';
import { mergeMethodRegistry } from './builtins.js';
import { checkModelCount, parseMergeParams } from './parameters.js';

/** Options of {@link mergeCheckpoints}. */
export interface MergeOptions {
  /** The method, or its id in `methods` (default: the built-ins). */
  readonly method: string | MergeMethod;
  /** The method's parameters; missing ones take their defaults, unknown ones are an error. */
  readonly params?: Readonly<Record<string, unknown>>;
  /** The pretrained model (file or HF folder) the task vectors are taken from; required by task-vector methods. */
  readonly base?: string;
  /** Where to look up a method given by id; default {@link mergeMethodRegistry}. */
  readonly methods?: PluginRegistry<MergeMethod>;
  /** Output dtype of float tensors; default: the first model's dtype of each tensor. */
  readonly dtype?: FloatDtype;
  /** Keep NaN or infinities in the inputs or the result (refused by default, naming tensor and element). */
  readonly allowNonFinite?: boolean;
  /** Elements per read when decoding F16/BF16 inputs (default 32 Ki); the result does not depend on it. */
  readonly chunkElements?: number;
  /** Replace an existing output (atomically); without it an existing output is an error. */
  readonly overwrite?: boolean;
  /** Largest shard of a folder output; default: the largest shard of the first model. */
  readonly maxShardBytes?: number;
  /** Flush the output before its rename (default true); false only for benchmarks. */
  readonly fsync?: boolean;
  /** Extra `__metadata__` entries of the output. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** What {@link mergeCheckpoints} wrote. */
export interface MergeResult {
  readonly out: string;
  readonly method: string;
  /** The parameters with their defaults filled in. */
  readonly params: Readonly<Record<string, unknown>>;
  /** The models, with their weights as given (a path given twice is one model with the summed weight). */
  readonly inputs: readonly WeightedPath[];
  readonly base?: string;
  /** Float tensors the base lacks (a task head the pretrained model does not have): merged as the weighted mean. */
  readonly meanTensors?: readonly string[];
  readonly tensors: number;
  readonly bytesWritten: number;
}

const DEFAULT_CHUNK = 1 << 15;

/** Merges a path given twice into one model with the summed weight, as the averager does; checks the weights. */
function plannedModels(plan: readonly (WeightedCheckpoint | WeightedPath)[], method: MergeMethod): WeightedPath[] {
  if (plan.length === 0) throw new XltError(`Nothing to merge: the plan for "${method.id}" is empty`);
  const models = summedWeights(plan);
  if (method.usesWeights && !(models.reduce((s, m) => s + m.weight, 0) > 0)) {
    throw new XltError(`The weights of the plan for "${method.id}" sum to 0; at least one must be positive`);
  }
  return models;
}

interface Prepared {
  readonly method: MergeMethod;
  readonly params: Record<string, unknown>;
  readonly models: WeightedPath[];
}

/** Everything that can be refused without reading a tensor: method, parameters, model count, base, output. */
function prepare(plan: readonly (WeightedCheckpoint | WeightedPath)[], out: string, options: MergeOptions): Prepared {
  const method = typeof options.method === 'string' ? (options.methods ?? mergeMethodRegistry()).get(options.method) : options.method;
  const params = parseMergeParams(method, options.params ?? {});
  const models = plannedModels(plan, method);
  checkModelCount(method, models.length);
  if (method.base === 'required' && !options.base) {
    throw new XltError(`Merge method "${method.id}" needs a base model (the pretrained model the task vectors are taken from); give base (--base, or base_model in YAML)`);
  }
  if (method.base === 'unused' && options.base) {
    throw new XltError(`Merge method "${method.id}" takes no base model, found base ${options.base}; leave it out`);
  }
  method.validate?.(params, models.length);
  if (options.chunkElements !== undefined && !(Number.isInteger(options.chunkElements) && options.chunkElements > 0)) {
    throw new XltError(`chunkElements must be a positive integer, found ${options.chunkElements}`);
  }
  const target = resolve(out);
  for (const input of [...models.map((m) => m.path), ...(options.base ? [options.base] : [])]) {
    const source = resolve(input);
    if (source === target || source.startsWith(`${target}${sep}`)) throw new XltError(`Output ${out} ${source === target ? 'is' : 'holds'} the input ${input}; choose another output`);
  }
  return { method, params, models };
}

/** Provenance in the output header: the averager's own key for a normalised `linear` merge (same bytes). */
function provenance(prepared: Prepared, base: string | undefined): Record<string, string> {
  const { method, params, models } = prepared;
  if (method.id === 'linear' && params['normalize'] === true) {
    const sum = models.reduce((s, m) => s + m.weight, 0);
    return { xlt_average: JSON.stringify(models.filter((m) => m.weight > 0).map((m) => ({ path: m.path, weight: m.weight / sum }))) };
  }
  return { xlt_merge: JSON.stringify({ method: method.id, params, models, ...(base ? { base } : {}) }) };
}

/**
 * Merges checkpoints with a {@link MergeMethod}, mergekit style: the executor streams, the method does the math.
 * Before any tensor is read it validates the parameters (errors name the parameter, the expected range and the
 * value), the number of models and the base (a task-vector method without one fails here); then it opens every
 * model and the base lazily, checks that names, shapes and tying agree (errors name the tensor, the file, the
 * expected and the found shape), and writes tensor by tensor: each float tensor is read from every input (one
 * tensor's worth of memory per input, never the whole model), merged in float64 by the method, checked for
 * non-finite values unless `allowNonFinite`, and rounded once to the output dtype. Non-float tensors are copied
 * when equal in every input. Output: one `.safetensors` file, or an HF folder when the first model is one,
 * written atomically (nothing at `out` on failure); an existing output only with `overwrite`.
 */
export async function mergeCheckpoints(
  plan: readonly (WeightedCheckpoint | WeightedPath)[],
  out: string,
  options: MergeOptions,
): Promise<MergeResult> {
  const prepared = prepare(plan, out, options);
  const { method, params, models } = prepared;
  const chunk = options.chunkElements ?? DEFAULT_CHUNK;
  const opened: SafetensorsCheckpoint[] = [];
  try {
    for (const path of [...models.map((m) => m.path), ...(options.base ? [options.base] : [])]) opened.push(await openCheckpoint(path));
    const inputs = opened.slice(0, models.length);
    const base = options.base ? opened[models.length] : undefined;
    const { baseLacks } = checkInputs(inputs, base);
    const meanOnly = new Set(baseLacks);
    const ref = inputs[0]!;
    if (ref.folder === undefined && existsSync(out) && !options.overwrite) throw new XltError(`Output ${out} already exists; choose another --out or pass overwrite`);
    const weights = models.map((m) => m.weight);
    const tensors = outputTensors(ref, (name) => async () => {
      if (!isFloatDtype(ref.tensors.get(name)!.dtype)) return copyIfEqual(name, opened);
      const values: MergeTensorValues[] = [];
      for (const c of meanOnly.has(name) ? inputs : opened) {
        const v = await readValues(c, name, chunk);
        if (!options.allowNonFinite) checkFinite(c, name, v);
        values.push(v);
      }
      const info = ref.tensors.get(name)!;
      const merged = new Float64Array(values[0]!.length);
      if (meanOnly.has(name)) {
        weightedMean(values, weights, merged);
        if (!options.allowNonFinite) checkResult(method, name, merged);
        return merged;
      }
      method.mergeTensor({ name, shape: info.shape, models: values.slice(0, models.length), weights, ...(base ? { base: values[models.length]! } : {}) }, params, merged);
      if (!options.allowNonFinite) checkResult(method, name, merged);
      return merged;
    }, options.dtype);
    const metadata: Record<string, string> = {
      ...(ref.metadata.format ? { format: ref.metadata.format } : {}),
      ...provenance(prepared, options.base),
      ...(baseLacks.length ? { xlt_merge_mean_tensors: JSON.stringify(baseLacks) } : {}),
      ...options.metadata,
    };
    const write = { sync: options.fsync !== false };
    if (ref.folder === undefined) await writeSafetensors(out, tensors, metadata, write);
    else await writeModelFolder(ref, out, tensors, metadata, { overwrite: options.overwrite ?? false, ...(options.maxShardBytes !== undefined ? { maxShardBytes: options.maxShardBytes } : {}) }, write);
    const bytesWritten = tensors.reduce((n, t) => n + (t.tiedTo ? 0 : elementCount(t.shape) * DTYPE_SIZES[t.dtype]), 0);
    return { out, method: method.id, params, inputs: models, ...(options.base ? { base: options.base } : {}), ...(baseLacks.length ? { meanTensors: baseLacks } : {}), tensors: tensors.length, bytesWritten };
  } finally {
    await Promise.all(opened.map((c) => c.close()));
  }
}

/** The weights-normalised mean of the models' values: for tensors the base lacks (a task head). */
function weightedMean(values: readonly MergeTensorValues[], weights: readonly number[], out: Float64Array): void {
  const sum = weights.reduce((a, b) => a + b, 0);
  for (let m = 0; m < values.length; m++) {
    const w = weights[m]! / sum;
    const v = values[m]!;
    for (let i = 0; i < out.length; i++) out[i]! += w * v[i]!;
  }
}

function checkResult(method: MergeMethod, name: string, merged: Float64Array): void {
  for (let i = 0; i < merged.length; i++) {
    if (!Number.isFinite(merged[i]!)) {
      throw new InputError(
        [{ path: `${JSON.stringify(name)}[${i}]`, expected: `a finite merged value (allowNonFinite / --allow-non-finite keeps it)`, found: String(merged[i]) }],
        `Merge method "${method.id}" produced a non-finite value`,
      );
    }
  }
}

/** The output's tensors in the first model's stored order (as the averager writes them), tied names kept tied. */
function outputTensors(
  ref: SafetensorsCheckpoint,
  source: (name: string) => TensorToWrite['data'],
  dtype: FloatDtype | undefined,
): TensorToWrite[] {
  const order = (t: CheckpointTensor) => ref.files.findIndex((f) => f.path === t.file);
  const ordered = [...ref.tensors.values()].sort((a, b) => order(a) - order(b) || a.start - b.start);
  const firstOfGroup = new Map<string, string>();
  const out: TensorToWrite[] = [];
  for (const t of ordered) {
    const outDtype = isFloatDtype(t.dtype) ? (dtype ?? t.dtype) : t.dtype;
    const tiedTo = firstOfGroup.get(tieKey(t));
    if (tiedTo !== undefined) {
      out.push({ name: t.name, dtype: outDtype, shape: t.shape, tiedTo });
      continue;
    }
    firstOfGroup.set(tieKey(t), t.name);
    out.push({ name: t.name, dtype: outDtype, shape: t.shape, data: source(t.name) });
  }
  return out;
}
