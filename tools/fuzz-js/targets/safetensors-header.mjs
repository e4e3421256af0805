// Fuzz target: the safetensors header parser of @xlt/plugin-api (headerLength + parseHeader) on a whole file in
// memory. Property: it returns a header that satisfies the documented layout rules, or throws an InputError that
// names the file. Anything else (TypeError, RangeError, a wrong header) is a crash.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

// The dist modules themselves, not the package index: the index also loads inversify, commander and yaml, which
// doubles the cost of every coverage snapshot. InputError is the same class either way (same module URL).
const dist = fileURLToPath(new URL('../../../packages/plugin-api/dist/', import.meta.url));
const { headerLength, parseHeader, encodeHeader, MAX_HEADER_BYTES } = await import(join(dist, 'safetensors/header.js'));
const { DTYPE_SIZES } = await import(join(dist, 'safetensors/dtype.js'));
const { InputError } = await import(join(dist, 'errors.js'));

/** Files whose V8 block coverage guides the fuzzer. */
export const coverage = [join(dist, 'safetensors/'), join(dist, 'errors.js')];

const FILE = 'fuzz.safetensors';

export function fuzz(data) {
  checkFile(data);
  // Mutations rarely keep the 8-byte length in step with the JSON, so most inputs die in headerLength. Parsing the
  // same bytes again with the length set to end at the first NUL (where the seeds' zero data starts) lets the
  // fuzzer explore the JSON while the raw pass above keeps testing the length checks.
  if (data.length >= 8) {
    const nul = data.indexOf(0, 8);
    const fixed = Buffer.from(data);
    fixed.writeBigUInt64LE(BigInt((nul < 0 ? data.length : nul) - 8));
    checkFile(fixed);
  }
}

function checkFile(data) {
  let header;
  try {
    const n = headerLength(data.subarray(0, 8), data.length, FILE);
    check(Number.isSafeInteger(n) && n >= 0 && n <= Math.min(data.length - 8, MAX_HEADER_BYTES), `header length ${n}`);
    header = parseHeader(data.subarray(8, 8 + n), data.length, FILE);
    check(header.dataStart === 8 + n, `dataStart ${header.dataStart} for a header of ${n} bytes`);
  } catch (error) {
    if (error instanceof InputError && error.message.includes(FILE)) return;
    throw error;
  }
  checkLayout(header, data.length);
}

function check(ok, what) {
  if (!ok) throw new Error(`invariant violated: ${what}`);
}

/** The rules parseHeader documents, checked independently (BigInt sizes, so no float rounding hides a bug). */
function checkLayout({ tensors, metadata, dataStart }, fileSize) {
  for (const value of Object.values(metadata)) check(typeof value === 'string', 'metadata values are strings');
  const spans = [];
  for (const [name, t] of tensors) {
    check(t.name === name, `tensor ${JSON.stringify(name)} is stored under its own name`);
    check(Object.hasOwn(DTYPE_SIZES, t.dtype), `${name}: known dtype ${t.dtype}`);
    check(t.shape.every((d) => Number.isSafeInteger(d) && d >= 0), `${name}: shape [${t.shape}] of non-negative integers`);
    check(Number.isSafeInteger(t.start) && Number.isSafeInteger(t.end), `${name}: integer offsets`);
    check(dataStart <= t.start && t.start <= t.end && t.end <= fileSize, `${name}: [${t.start}, ${t.end}) inside [${dataStart}, ${fileSize}]`);
    const bytes = t.shape.reduce((a, d) => a * BigInt(d), 1n) * BigInt(DTYPE_SIZES[t.dtype]);
    check(bytes === BigInt(t.end - t.start), `${name}: ${t.end - t.start} bytes for ${t.dtype} [${t.shape}]`);
    if (t.end > t.start) spans.push(t);
  }
  // Non-empty tensors tile the data region; two names may share exactly the same bytes (tied weights).
  spans.sort((a, b) => a.start - b.start || a.end - b.end);
  let cursor = dataStart;
  for (const [i, t] of spans.entries()) {
    const prev = spans[i - 1];
    if (prev && prev.start === t.start && prev.end === t.end) {
      check(prev.dtype === t.dtype && prev.shape.join() === t.shape.join(), `${t.name}: ties ${prev.name} with the same dtype and shape`);
      continue;
    }
    check(t.start === cursor, `${t.name}: starts at ${cursor} (no hole, no overlap), not ${t.start}`);
    cursor = t.end;
  }
  check(cursor === fileSize, `tensors end at the end of the file (${fileSize}), not ${cursor}`);
}

/** Seed inputs: whole files, valid and slightly broken. */
export function seeds() {
  const file = (entries, metadata, extra = 0) => {
    const head = encodeHeader(entries, metadata);
    const size = entries.reduce((m, e) => Math.max(m, e.end), 0) + extra;
    const out = new Uint8Array(head.length + size);
    out.set(head);
    return out;
  };
  const t = (name, dtype, shape, begin) => {
    const end = begin + shape.reduce((a, d) => a * d, 1) * DTYPE_SIZES[dtype];
    return { name, dtype, shape, begin, end };
  };
  const raw = (json, dataBytes = 0) => {
    const body = new TextEncoder().encode(json);
    const out = new Uint8Array(8 + body.length + dataBytes);
    new DataView(out.buffer).setBigUint64(0, BigInt(body.length), true);
    out.set(body, 8);
    return out;
  };
  return {
    'two-tensors': file([t('w', 'F32', [2, 3], 0), t('b', 'BF16', [3], 24)]),
    'metadata': file([t('x', 'F16', [4], 0)], { format: 'pt', note: 'seed' }),
    'tied-weights': file([t('emb', 'F32', [4, 2], 0), t('lm_head', 'F32', [4, 2], 0)]),
    'empty-tensor': file([t('e', 'I64', [0, 5], 0), t('s', 'U8', [], 0)]),
    'scalar-and-bool': file([t('flag', 'BOOL', [3], 0), t('step', 'I64', [], 3)]),
    'all-dtypes': file(Object.keys(DTYPE_SIZES).reduce((acc, d, i) => [...acc, t(`t${i}`, d, [2], acc.at(-1)?.end ?? 0)], [])),
    'empty-header': raw('{}'),
    'trailing-bytes': file([t('x', 'U8', [2], 0)], undefined, 3),
    'overlap': raw('{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}', 6),
    'hole': raw('{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}', 6),
    'bad-metadata': raw('{"__metadata__":{"k":1},"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}', 8),
    'metadata-not-object': raw('{"__metadata__":["x"]}'),
    'not-an-object': raw('[{"dtype":"F32"}]'),
    'tied-mismatch': raw('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}', 8),
    'bad-fields': raw('{"a":{"dtype":null,"shape":{"0":1},"data_offsets":[1]},"b":[],"c":{"dtype":"F32","shape":[-1,1.5,"x"],"data_offsets":[8,0]}}', 8),
    'short': new Uint8Array([8, 0, 0]),
  };
}
