import { InputError, describeFound, type InputIssue } from '../errors.js';
import { DTYPE_SIZES, SAFETENSORS_DTYPES, elementCount, isSafetensorsDtype, type SafetensorsDtype } from './dtype.js';

/** Where one tensor lives in a safetensors file. */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Absolute byte offset of the first byte in the file. */
  readonly start: number;
  /** Absolute byte offset one past the last byte in the file. */
  readonly end: number;
}

/** A parsed, validated header. */
export interface ParsedHeader {
  /** Tensors in file order (by offset, then name). */
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  readonly metadata: Record<string, string>;
  /** Absolute offset of the data region (8 + header length). */
  readonly dataStart: number;
}

/** Largest header accepted, as in the Rust `safetensors` crate: a bigger one is a corrupt length, not a model. */
export const MAX_HEADER_BYTES = 100_000_000;

/**
 * Validates the 8-byte length prefix against the file size and returns the header length. Errors name the file
 * and byte offset 0.
 */
export function headerLength(prefix: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < 8) {
    throw new InputError([{ file, path: 'byte 0', expected: 'an 8-byte little-endian header length (safetensors)', found: `a file of ${fileSize} bytes` }]);
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(fileSize - 8)) {
    throw new InputError([{ file, path: 'byte 0', expected: `a header length of at most ${fileSize - 8} bytes (the rest of the file)`, found: `${n}` }]);
  }
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new InputError([{ file, path: 'byte 0', expected: `a header length of at most ${MAX_HEADER_BYTES} bytes`, found: `${n}` }]);
  }
  return Number(n);
}

/**
 * Parses and fully validates a safetensors header: JSON object, known dtypes, integer non-negative dims,
 * byte length = product(shape) x dtype size, offsets inside the data region, no partial overlaps, no holes
 * (the spec requires the tensors to cover the data region exactly). Two names on exactly the same byte range
 * (tied weights, with equal dtype and shape) are accepted as one stored tensor. Every problem found is
 * reported, each naming the file and the tensor.
 */
export function parseHeader(headerBytes: Uint8Array, fileSize: number, file: string): ParsedHeader {
  const dataStart = 8 + headerBytes.byteLength;
  const dataLength = fileSize - dataStart;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new InputError([{ file, path: 'header (byte 8)', expected: 'a UTF-8 JSON header', found: 'bytes that are not valid UTF-8' }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError([{ file, path: 'header (byte 8)', expected: 'a JSON header', found: `invalid JSON (${(error as Error).message})` }]);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new InputError([{ file, path: 'header (byte 8)', expected: 'a JSON object mapping tensor names to {dtype, shape, data_offsets}', found: describeFound(json) }]);
  }
  const issues: InputIssue[] = [];
  const metadata: Record<string, string> = {};
  const infos: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    const path = `header[${JSON.stringify(name)}]`;
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
        issues.push({ file, path, expected: 'an object of string values', found: describeFound(entry) });
        continue;
      }
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') issues.push({ file, path: `${path}[${JSON.stringify(k)}]`, expected: 'a string', found: describeFound(v) });
        else metadata[k] = v;
      }
      continue;
    }
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      issues.push({ file, path, expected: 'an object {dtype, shape, data_offsets}', found: describeFound(entry) });
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    let ok = true;
    if (!isSafetensorsDtype(dtype)) {
      issues.push({ file, path: `${path}.dtype`, expected: `one of ${SAFETENSORS_DTYPES.join(', ')}`, found: describeFound(dtype) });
      ok = false;
    }
    if (!Array.isArray(shape)) {
      issues.push({ file, path: `${path}.shape`, expected: 'an array of non-negative integers', found: describeFound(shape) });
      ok = false;
    } else {
      shape.forEach((d, i) => {
        if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
          issues.push({ file, path: `${path}.shape[${i}]`, expected: 'a non-negative integer', found: describeFound(d) });
          ok = false;
        }
      });
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
    ) {
      issues.push({ file, path: `${path}.data_offsets`, expected: 'two non-negative integers [begin, end]', found: JSON.stringify(offsets) ?? 'nothing' });
      continue;
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) {
      issues.push({ file, path: `${path}.data_offsets`, expected: 'begin <= end', found: `[${begin}, ${end}]` });
      continue;
    }
    if (end > dataLength) {
      issues.push({
        file,
        path: `${path}.data_offsets`,
        expected: `offsets within the data region of ${dataLength} bytes (file bytes ${dataStart}..${fileSize})`,
        found: `[${begin}, ${end}] (file bytes ${dataStart + begin}..${dataStart + end})`,
      });
      continue;
    }
    if (!ok) continue;
    const expectedBytes = elementCount(shape as number[]) * DTYPE_SIZES[dtype as SafetensorsDtype];
    if (end - begin !== expectedBytes) {
      issues.push({
        file,
        path: `${path}.data_offsets`,
        expected: `${expectedBytes} bytes for ${dtype} of shape [${(shape as number[]).join(', ')}]`,
        found: `${end - begin} bytes ([${begin}, ${end}])`,
      });
      continue;
    }
    infos.push({ name, dtype: dtype as SafetensorsDtype, shape: [...(shape as number[])], start: dataStart + begin, end: dataStart + end });
  }
  if (issues.length === 0) checkCoverage(infos, dataStart, fileSize, file, issues);
  if (issues.length > 0) throw new InputError(issues, `${file}: not a valid safetensors file`);
  infos.sort((a, b) => a.start - b.start || a.end - b.end || (a.name < b.name ? -1 : 1));
  return { tensors: new Map(infos.map((t) => [t.name, t])), metadata, dataStart };
}

/** The spec's layout rule: tensors tile the data region with no gap and no overlap (exact aliases allowed). */
function checkCoverage(infos: readonly TensorInfo[], dataStart: number, fileSize: number, file: string, issues: InputIssue[]): void {
  const sorted = [...infos].filter((t) => t.end > t.start).sort((a, b) => a.start - b.start || a.end - b.end);
  let cursor = dataStart;
  let previous: TensorInfo | undefined;
  for (const t of sorted) {
    if (previous && t.start === previous.start && t.end === previous.end) {
      if (t.dtype !== previous.dtype || t.shape.join() !== previous.shape.join()) {
        issues.push({
          file,
          path: `header[${JSON.stringify(t.name)}]`,
          expected: `the dtype and shape of ${JSON.stringify(previous.name)}, which uses the same bytes (tied weights)`,
          found: `${t.dtype} [${t.shape.join(', ')}] vs ${previous.dtype} [${previous.shape.join(', ')}]`,
        });
      }
      continue;
    }
    if (t.start < cursor) {
      issues.push({
        file,
        path: `header[${JSON.stringify(t.name)}].data_offsets`,
        expected: `tensors not to overlap: it starts at file byte ${t.start}, inside ${JSON.stringify(previous?.name)} (bytes ${previous?.start}..${previous?.end})`,
        found: 'overlapping offsets',
      });
      continue;
    }
    if (t.start > cursor) {
      issues.push({
        file,
        path: `header[${JSON.stringify(t.name)}].data_offsets`,
        expected: `the data region to be covered without holes: a tensor starting at file byte ${cursor}`,
        found: `a hole of ${t.start - cursor} bytes (file bytes ${cursor}..${t.start})`,
      });
    }
    cursor = t.end;
    previous = t;
  }
  if (cursor !== fileSize && issues.length === 0) {
    issues.push({
      file,
      path: `byte ${cursor}`,
      expected: `the tensors to end at the end of the file (byte ${fileSize})`,
      found: `${fileSize - cursor} unused trailing bytes`,
    });
  }
}

/** JSON header entry of one tensor, offsets relative to the data region. */
export interface HeaderEntry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/**
 * Serialises a header: the 8-byte length followed by the JSON, padded with spaces so that the data region starts
 * at a multiple of 8 (as the Rust crate does, so that readers can map aligned views).
 */
export function encodeHeader(entries: readonly HeaderEntry[], metadata?: Readonly<Record<string, string>>): Uint8Array {
  const json: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) json.__metadata__ = { ...metadata };
  for (const e of entries) json[e.name] = { dtype: e.dtype, shape: [...e.shape], data_offsets: [e.begin, e.end] };
  const body = new TextEncoder().encode(JSON.stringify(json));
  const padded = Math.ceil(body.byteLength / 8) * 8;
  const out = new Uint8Array(8 + padded).fill(0x20, 8 + body.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(body, 8);
  return out;
}
