import {
  DTYPE_SIZES,
  InputError,
  decodeFloat32,
  elementCount,
  isFloatDtype,
  type CheckpointTensor,
  type FloatDtype,
  type InputIssue,
  type MergeTensorValues,
  type SafetensorsCheckpoint,
} from '@xlt/plugin-api';
import { nonFiniteError } from '../parallel-average.js';

/*
 * The reading side of the merge executor: checks that the inputs agree, and loads one tensor of one input.
 */

/** Tensors stored on one byte range (tied weights) share a key. */
export function tieKey(t: CheckpointTensor): string {
  return t.end > t.start ? `${t.file}\0${t.start}` : `\0${t.name}`;
}

/** Name of the tensor each tensor shares its bytes with (itself when stored on its own). */
function tiesOf(c: SafetensorsCheckpoint): Map<string, string> {
  const first = new Map<string, string>();
  const ties = new Map<string, string>();
  for (const t of c.tensors.values()) {
    const key = tieKey(t);
    if (!first.has(key)) first.set(key, t.name);
    ties.set(t.name, first.get(key)!);
  }
  return ties;
}

const shapeText = (t: CheckpointTensor) => `[${t.shape.join(', ')}]`;

/**
 * Every model and the base must hold the first model's tensor names with the same shapes, the same kind of dtype
 * (float dtypes may differ: a BF16 model over an F32 base), the same non-float dtype, and the same weight tying.
 * The base (a pretrained model) is held to less: it may lack float tensors the fine-tuned models have (their task
 * head, which a pretrained model does not have, so no task vector exists for it) and may have tensors they lack
 * (its pretraining head); returns the float tensors it lacks, which the merge takes as the models' weighted mean.
 */
export function checkInputs(models: readonly SafetensorsCheckpoint[], base?: SafetensorsCheckpoint): { readonly baseLacks: readonly string[] } {
  const [ref] = models;
  const rest = base ? [...models.slice(1), base] : models.slice(1);
  const refTies = tiesOf(ref!);
  const issues: InputIssue[] = [];
  const baseLacks: string[] = [];
  for (const other of rest) {
    const isBase = other === base;
    for (const t of ref!.tensors.values()) {
      const o = other.tensors.get(t.name);
      if (!o && isBase && isFloatDtype(t.dtype)) baseLacks.push(t.name);
      else if (!o) issues.push({ file: other.path, path: JSON.stringify(t.name), expected: `tensor ${JSON.stringify(t.name)} as in ${ref!.path}`, found: 'no such tensor' });
      else if (o.shape.join() !== t.shape.join()) issues.push({ file: o.file, path: JSON.stringify(t.name), expected: `shape ${shapeText(t)} as in ${t.file}`, found: `shape ${shapeText(o)}` });
      else if (isFloatDtype(t.dtype) ? !isFloatDtype(o.dtype) : o.dtype !== t.dtype) {
        issues.push({ file: o.file, path: JSON.stringify(t.name), expected: `dtype ${isFloatDtype(t.dtype) ? 'F16, BF16, F32 or F64' : t.dtype} as in ${t.file}`, found: o.dtype });
      }
    }
    for (const name of other.tensors.keys()) {
      if (!ref!.tensors.has(name) && !isBase) issues.push({ file: other.path, path: JSON.stringify(name), expected: `only the tensors of ${ref!.path}`, found: 'an extra tensor' });
    }
    if (issues.length === 0) {
      for (const [name, tiedTo] of tiesOf(other)) {
        if (isBase && (!ref!.tensors.has(name) || !ref!.tensors.has(tiedTo))) continue; // ties of tensors the merge does not take
        if (tiedTo !== refTies.get(name)) {
          issues.push({ file: other.path, path: JSON.stringify(name), expected: `the weight tying of ${ref!.path} (${refTies.get(name) === name ? 'stored on its own' : `sharing bytes with ${JSON.stringify(refTies.get(name))}`})`, found: tiedTo === name ? 'stored on its own' : `sharing bytes with ${JSON.stringify(tiedTo)}` });
        }
      }
    }
  }
  if (issues.length) throw new InputError(issues.slice(0, 20), `Checkpoints ${[...models, ...(base ? [base] : [])].map((c) => c.path).join(', ')} cannot be merged`);
  return { baseLacks };
}

/** One input's copy of a float tensor: F64 as float64, the others as float32 (exact), decoded chunk by chunk. */
export async function readValues(c: SafetensorsCheckpoint, name: string, chunk: number): Promise<MergeTensorValues> {
  const t = c.tensors.get(name)!;
  const n = elementCount(t.shape);
  const dtype = t.dtype as FloatDtype;
  if (dtype === 'F64' || dtype === 'F32') {
    const values = dtype === 'F64' ? new Float64Array(n) : new Float32Array(n);
    await c.readInto(name, new Uint8Array(values.buffer), 0);
    return values;
  }
  const values = new Float32Array(n);
  const bytes = new Uint8Array(Math.min(chunk, n) * 2);
  for (let first = 0; first < n; first += chunk) {
    const count = Math.min(chunk, n - first);
    await c.readInto(name, bytes.subarray(0, count * 2), first * 2);
    decodeFloat32(bytes.subarray(0, count * 2), dtype, values.subarray(first, first + count));
  }
  return values;
}

/** Refuses NaN or an infinity in an input, naming file, tensor, element and byte offset. */
export function checkFinite(c: SafetensorsCheckpoint, name: string, values: MergeTensorValues): void {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) throw nonFiniteError(c, name, i, values[i]!);
}

/** A non-float tensor (ids, masks) must be byte-identical in every input; it is copied from the first. */
export async function copyIfEqual(name: string, checkpoints: readonly SafetensorsCheckpoint[]): Promise<Uint8Array> {
  const first = await checkpoints[0]!.readBytes(name);
  for (const other of checkpoints.slice(1)) {
    const bytes = await other.readBytes(name);
    const at = first.findIndex((x, i) => x !== bytes[i]);
    if (at >= 0) {
      const t = other.tensors.get(name)!;
      throw new InputError([{ file: t.file, path: `${JSON.stringify(name)}[${Math.floor(at / DTYPE_SIZES[t.dtype])}]`, expected: `the same ${t.dtype} values as ${checkpoints[0]!.tensors.get(name)!.file} (non-float tensors are copied, not merged)`, found: 'a different value' }]);
    }
  }
  return first;
}

