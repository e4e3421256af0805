import { XltError } from '@xlt/plugin-api';

/** One scalar of a summary: TensorBoard's `Summary.Value { tag = 1; simple_value = 2 }`. */
export interface ScalarValue {
  readonly tag: string;
  readonly value: number;
}

/**
 * The subset of TensorFlow's `Event` message that scalar logging needs: `wall_time = 1` (double, seconds since the
 * epoch), `step = 2` (int64), and one of `file_version = 3` (string) or `summary = 5` (`Summary { repeated Value
 * value = 1 }`).
 */
export interface TfEvent {
  readonly wallTime: number;
  readonly step: number;
  readonly fileVersion?: string;
  readonly scalars?: readonly ScalarValue[];
}

/** Wire types of the protobuf encoding. */
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** Appends protobuf fields to a growing list of byte chunks. */
class ProtoWriter {
  readonly #chunks: Uint8Array[] = [];

  #varint(value: bigint): void {
    const bytes: number[] = [];
    let v = BigInt.asUintN(64, value);
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      bytes.push(byte);
    } while (v !== 0n);
    this.#chunks.push(Uint8Array.from(bytes));
  }

  #key(field: number, wireType: number): void {
    this.#varint(BigInt((field << 3) | wireType));
  }

  double(field: number, value: number): this {
    this.#key(field, FIXED64);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, value, true);
    this.#chunks.push(b);
    return this;
  }

  float(field: number, value: number): this {
    this.#key(field, FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.#chunks.push(b);
    return this;
  }

  int64(field: number, value: number): this {
    this.#key(field, VARINT);
    this.#varint(BigInt(Math.trunc(value)));
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.#key(field, LENGTH_DELIMITED);
    this.#varint(BigInt(value.length));
    this.#chunks.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of this.#chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

/** Serialises an {@link TfEvent} as the `Event` protobuf message TensorBoard reads. */
export function encodeEvent(event: TfEvent): Uint8Array {
  const w = new ProtoWriter().double(1, event.wallTime).int64(2, event.step);
  if (event.fileVersion !== undefined) w.string(3, event.fileVersion);
  if (event.scalars) {
    const summary = new ProtoWriter();
    for (const s of event.scalars) summary.bytes(1, new ProtoWriter().string(1, s.tag).float(2, s.value).finish());
    w.bytes(5, summary.finish());
  }
  return w.finish();
}

/** One field of a protobuf message as read by {@link protoFields}. */
interface ProtoField {
  readonly field: number;
  readonly wireType: number;
  /** Varint value (wire type 0). */
  readonly varint?: bigint;
  /** Raw bytes of a fixed-size or length-delimited field. */
  readonly bytes?: Uint8Array;
}

/** Splits a protobuf message into its fields (no schema needed); `what` names the message in errors. */
function protoFields(data: Uint8Array, what: string): ProtoField[] {
  const out: ProtoField[] = [];
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (at >= data.length) throw new XltError(`${what}: a varint runs past the end of the message (${data.length} bytes).`);
      const byte = data[at++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return result;
      if (shift > 63n) throw new XltError(`${what}: a varint at byte ${at} is longer than 10 bytes.`);
    }
  };
  const take = (n: number): Uint8Array => {
    if (at + n > data.length) throw new XltError(`${what}: a field of ${n} bytes at byte ${at} runs past the end of the message (${data.length} bytes).`);
    const b = data.subarray(at, at + n);
    at += n;
    return b;
  };
  while (at < data.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wireType = key & 7;
    if (wireType === VARINT) out.push({ field, wireType, varint: varint() });
    else if (wireType === FIXED64) out.push({ field, wireType, bytes: take(8) });
    else if (wireType === LENGTH_DELIMITED) out.push({ field, wireType, bytes: take(Number(varint())) });
    else if (wireType === FIXED32) out.push({ field, wireType, bytes: take(4) });
    else throw new XltError(`${what}: field ${field} has wire type ${wireType}; expected 0, 1, 2 or 5.`);
  }
  return out;
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/**
 * Reads back an `Event` message as written by {@link encodeEvent} (unknown fields are skipped), e.g. to find the
 * step of each record when a resumed run trims its event files. `what` names the record in errors.
 */
export function decodeEvent(data: Uint8Array, what: string): TfEvent {
  let wallTime = 0;
  let step = 0;
  let fileVersion: string | undefined;
  let scalars: ScalarValue[] | undefined;
  for (const f of protoFields(data, what)) {
    if (f.field === 1 && f.wireType === FIXED64) wallTime = view(f.bytes!).getFloat64(0, true);
    else if (f.field === 2 && f.wireType === VARINT) step = Number(BigInt.asIntN(64, f.varint!));
    else if (f.field === 3 && f.wireType === LENGTH_DELIMITED) fileVersion = new TextDecoder().decode(f.bytes!);
    else if (f.field === 5 && f.wireType === LENGTH_DELIMITED) {
      scalars ??= [];
      for (const v of protoFields(f.bytes!, `${what} summary`)) {
        if (v.field !== 1 || v.wireType !== LENGTH_DELIMITED) continue;
        let tag = '';
        let value = NaN;
        for (const x of protoFields(v.bytes!, `${what} summary value`)) {
          if (x.field === 1 && x.wireType === LENGTH_DELIMITED) tag = new TextDecoder().decode(x.bytes!);
          else if (x.field === 2 && x.wireType === FIXED32) value = view(x.bytes!).getFloat32(0, true);
        }
        scalars.push({ tag, value });
      }
    }
  }
  return { wallTime, step, ...(fileVersion !== undefined ? { fileVersion } : {}), ...(scalars ? { scalars } : {}) };
}
