import { deflateRawSync } from 'node:zlib';

/*
 * Test fixtures written byte by byte, so the reader's tests need no PyTorch: pickle opcodes, zip archives (stored,
 * deflated, ZIP64) and torch.save's zip layout. The PyTorch-written files are tested in model/checkpoint-variants.
 */

const utf8 = new TextEncoder();

function u16(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff];
}
function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}
function u64(n: number): number[] {
  return [...u32(n % 2 ** 32), ...u32(Math.floor(n / 2 ** 32))];
}

/** Pickle opcodes as byte arrays, to be concatenated with {@link pickle}. */
export const op = {
  proto: [0x80, 2],
  stop: [0x2e],
  mark: [0x28],
  tuple: [0x74],
  tuple1: [0x85],
  tuple2: [0x86],
  emptyTuple: [0x29],
  emptyDict: [0x7d],
  emptyList: [0x5d],
  appends: [0x65],
  setitem: [0x73],
  setitems: [0x75],
  reduce: [0x52],
  build: [0x62],
  binpersid: [0x51],
  none: [0x4e],
  newfalse: [0x89],
  global: (module: string, name: string) => [0x63, ...utf8.encode(`${module}\n${name}\n`)],
  stackGlobal: [0x93],
  str: (s: string) => {
    const b = utf8.encode(s);
    return [0x58, ...u32(b.length), ...b];
  },
  int: (n: number) => [0x4a, ...u32(n >>> 0)],
  binput: (i: number) => [0x71, i],
  binget: (i: number) => [0x68, i],
};

/** Concatenates opcodes (and raw bytes) into a pickle. */
export function pickle(...parts: (readonly number[])[]): Uint8Array {
  return Uint8Array.from(parts.flat());
}

/** One tensor of {@link stateDictPickle}: a view of storage `key` (a `torch.<type>` of `numel` elements). */
export interface FixtureTensor {
  readonly name: string;
  readonly key: string;
  readonly type: string;
  readonly numel: number;
  readonly offset: number;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
}

function intTuple(values: readonly number[]): number[] {
  return [...op.mark, ...values.flatMap(op.int), ...op.tuple];
}

/** The data.pkl of `torch.save(OrderedDict(...))`, as protocol 2 writes it (with `_metadata` set by BUILD). */
export function stateDictPickle(tensors: readonly FixtureTensor[]): Uint8Array {
  const parts: number[][] = [op.proto, op.global('collections', 'OrderedDict'), op.emptyTuple, op.reduce, op.mark];
  for (const t of tensors) {
    parts.push(
      op.str(t.name),
      op.global('torch._utils', '_rebuild_tensor_v2'),
      op.mark,
      [...op.mark, ...op.str('storage'), ...op.global('torch', t.type), ...op.str(t.key), ...op.str('cpu'), ...op.int(t.numel), ...op.tuple],
      op.binpersid,
      op.int(t.offset),
      intTuple(t.shape),
      intTuple(t.stride),
      op.newfalse,
      op.global('collections', 'OrderedDict'),
      op.emptyTuple,
      op.reduce,
      op.tuple,
      op.reduce,
    );
  }
  parts.push(op.setitems, op.emptyDict, op.str('_metadata'), op.emptyDict, op.setitem, op.build, op.stop);
  return pickle(...parts);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One entry of {@link zipOf}. */
export interface FixtureEntry {
  readonly name: string;
  readonly data: Uint8Array;
  /** Deflate the entry (method 8) instead of storing it. */
  readonly deflate?: boolean;
  /** Bytes of extra field in the local header only (PyTorch pads there to align data). */
  readonly localPadding?: number;
}

/** A zip archive; with `zip64`, sizes and offsets are written the ZIP64 way (saturated fields, extra records). */
export function zipOf(entries: readonly FixtureEntry[], options: { zip64?: boolean } = {}): Uint8Array {
  const out: number[] = [];
  const central: number[] = [];
  for (const e of entries) {
    const name = utf8.encode(e.name);
    const body = e.deflate ? new Uint8Array(deflateRawSync(e.data)) : e.data;
    const offset = out.length;
    const pad = e.localPadding ?? 0;
    const localExtra = pad ? [...u16(0x4246), ...u16(pad - 4), ...new Array<number>(pad - 4).fill(0)] : [];
    const crc = crc32(e.data);
    out.push(...u32(0x04034b50), ...u16(20), ...u16(0), ...u16(e.deflate ? 8 : 0), ...u16(0), ...u16(0), ...u32(crc));
    out.push(...u32(body.length), ...u32(e.data.length), ...u16(name.length), ...u16(localExtra.length), ...name, ...localExtra, ...body);
    const zip64Extra = options.zip64 ? [...u16(1), ...u16(24), ...u64(e.data.length), ...u64(body.length), ...u64(offset)] : [];
    const big = (n: number) => (options.zip64 ? 0xffffffff : n);
    central.push(...u32(0x02014b50), ...u16(45), ...u16(45), ...u16(0), ...u16(e.deflate ? 8 : 0), ...u16(0), ...u16(0), ...u32(crc));
    central.push(...u32(big(body.length)), ...u32(big(e.data.length)), ...u16(name.length), ...u16(zip64Extra.length), ...u16(0), ...u16(0), ...u16(0), ...u32(0));
    central.push(...u32(big(offset)), ...name, ...zip64Extra);
  }
  const directoryOffset = out.length;
  out.push(...central);
  if (options.zip64) {
    const recordOffset = out.length;
    out.push(...u32(0x06064b50), ...u64(44), ...u16(45), ...u16(45), ...u32(0), ...u32(0), ...u64(entries.length), ...u64(entries.length), ...u64(central.length), ...u64(directoryOffset));
    out.push(...u32(0x07064b50), ...u32(0), ...u64(recordOffset), ...u32(1));
    out.push(...u32(0x06054b50), ...u16(0), ...u16(0), ...u16(0xffff), ...u16(0xffff), ...u32(0xffffffff), ...u32(0xffffffff), ...u16(0));
  } else {
    out.push(...u32(0x06054b50), ...u16(0), ...u16(0), ...u16(entries.length), ...u16(entries.length), ...u32(central.length), ...u32(directoryOffset), ...u16(0));
  }
  return Uint8Array.from(out);
}

/** A `torch.save` zip: `archive/data.pkl`, `archive/data/<key>` (64-byte aligned, as PyTorch writes) and `archive/version`. */
export function torchZip(dataPkl: Uint8Array, storages: ReadonlyMap<string, Uint8Array>, options: { deflatePickle?: boolean; zip64?: boolean } = {}): Uint8Array {
  return zipOf(
    [
      { name: 'archive/data.pkl', data: dataPkl, deflate: options.deflatePickle },
      ...[...storages].map(([key, data]) => ({ name: `archive/data/${key}`, data, localPadding: 40 })),
      { name: 'archive/version', data: utf8.encode('3\n') },
    ],
    { zip64: options.zip64 },
  );
}
