/*
 * The inner loops of averaging as a tiny WebAssembly SIMD module, assembled here from its opcodes (no build step,
 * no binary in the repo). V8 does not vectorise JS loops: `acc[i] += w * x[i]` runs at ~2 ns per element on a
 * shared 2-core EPYC, slower than reading the bytes from the page cache; the same loop on f64x2 lanes runs
 * ~6x faster. Every operation is the IEEE one JS uses (promote f32->f64, mul, add, demote with round to nearest
 * even), so results are bit-identical to the JS loops in accumulate.ts, which remain the fallback.
 */

const leb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
};
const name = (s: string): number[] => [...leb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const section = (id: number, bytes: number[]): number[] => [id, ...leb(bytes.length), ...bytes];
const get = (i: number): number[] => [0x20, i];
const set = (i: number): number[] => [0x21, i];
const tee = (i: number): number[] => [0x22, i];
const i32 = (v: number): number[] => [0x41, v]; // small non-negative constants only (one signed LEB byte)
const I32_ADD = 0x6a;
const I32_LT_U = 0x49;
const LOOP = [0x03, 0x40];
const BR_IF_0 = [0x0d, 0];
const END = 0x0b;
/** Opcodes of the SIMD instructions used (after the 0xfd prefix), by their WebAssembly text names. */
const SIMD_OPS = {
  'v128.load': 0x00, 'v128.load16x4_u': 0x04, 'v128.store': 0x0b, 'v128.const': 0x0c, 'i8x16.shuffle': 0x0d,
  'f64x2.splat': 0x14, 'f32x4.demote_f64x2_zero': 0x5e, 'f64x2.promote_low_f32x4': 0x5f, 'i32x4.shl': 0xab,
  'f64x2.add': 0xf0, 'f64x2.mul': 0xf2,
} as const;
const simd = (op: keyof typeof SIMD_OPS, ...immediates: number[]): number[] => [0xfd, ...leb(SIMD_OPS[op]), ...immediates];
/** Lanes 2 and 3 of an f32x4 moved to lanes 0 and 1, for promoting the upper half. */
const UPPER_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
/** The low 8 bytes of two vectors, concatenated. */
const LOW_HALVES = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

type StoredKind = 'f32' | 'bf16' | 'f64';

/**
 * `(acc, x, w, end)`: for 4 elements per iteration until `x` reaches `end` (a positive multiple of 4 elements):
 * `acc[i] = acc[i] + w * x[i]`, or with `first` `acc[i] = w * x[i] + 0`. Locals: 4 = splat(w), 5 = four f32.
 */
function accumulateBody(kind: StoredKind, first: boolean): number[] {
  const code = [...get(2), ...simd('f64x2.splat'), ...set(4), ...LOOP];
  if (kind === 'f32') code.push(...get(1), ...simd('v128.load', 0, 0), ...set(5));
  // BF16 is the upper half of a float32: widen the four u16 to u32 and shift them into place.
  if (kind === 'bf16') code.push(...get(1), ...simd('v128.load16x4_u', 0, 0), ...i32(16), ...simd('i32x4.shl'), ...set(5));
  for (const half of [0, 1]) {
    code.push(...get(0));
    if (kind === 'f64') code.push(...get(1), ...simd('v128.load', 0, half * 16));
    else if (half === 0) code.push(...get(5), ...simd('f64x2.promote_low_f32x4'));
    else code.push(...get(5), ...get(5), ...simd('i8x16.shuffle', ...UPPER_HALF), ...simd('f64x2.promote_low_f32x4'));
    code.push(...get(4), ...simd('f64x2.mul'));
    if (first) code.push(...simd('v128.const', ...new Array<number>(16).fill(0)));
    else code.push(...get(0), ...simd('v128.load', 0, half * 16));
    code.push(...simd('f64x2.add'), ...simd('v128.store', 0, half * 16));
  }
  const step = { f32: 16, bf16: 8, f64: 32 }[kind];
  code.push(...get(0), ...i32(32), I32_ADD, ...set(0));
  code.push(...get(1), ...i32(step), I32_ADD, ...tee(1), ...get(3), I32_LT_U, ...BR_IF_0, END, END);
  return code;
}

/** `(acc, out, _, end)`: float64 to float32 (round to nearest even), 4 per iteration, `out` may equal `acc`. */
function demoteBody(): number[] {
  const code = [...LOOP];
  code.push(...get(1));
  code.push(...get(0), ...simd('v128.load', 0, 0), ...simd('f32x4.demote_f64x2_zero'));
  code.push(...get(0), ...simd('v128.load', 0, 16), ...simd('f32x4.demote_f64x2_zero'));
  code.push(...simd('i8x16.shuffle', ...LOW_HALVES), ...simd('v128.store', 0, 0));
  code.push(...get(0), ...i32(32), I32_ADD, ...set(0));
  code.push(...get(1), ...i32(16), I32_ADD, ...tee(1), ...get(3), I32_LT_U, ...BR_IF_0, END, END);
  return code;
}

const EXPORTS: ReadonlyArray<readonly [string, number[]]> = [
  ...(['f32', 'bf16', 'f64'] as const).flatMap((kind) => [
    [`set_${kind}`, accumulateBody(kind, true)] as const,
    [`add_${kind}`, accumulateBody(kind, false)] as const,
  ]),
  ['demote', demoteBody()],
];

function moduleBytes(): Uint8Array {
  const bodies = EXPORTS.map(([, code]) => {
    const fn = [1, 2, 0x7b, ...code]; // one local group: two v128
    return [...leb(fn.length), ...fn];
  });
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 4, 0x7f, 0x7f, 0x7c, 0x7f, 0]), // (i32, i32, f64, i32) -> ()
    ...section(2, [1, ...name('m'), ...name('memory'), 0x02, 0x00, 1]), // imported memory, min 1 page
    ...section(3, [EXPORTS.length, ...EXPORTS.map(() => 0)]),
    ...section(7, [EXPORTS.length, ...EXPORTS.flatMap(([n], i) => [...name(n), 0x00, i])]),
    ...section(10, [EXPORTS.length, ...bodies.flat()]),
  ]);
}

type Kernel = (acc: number, x: number, w: number, end: number) => void;

/** The little of the WebAssembly JS API used here (the workspace's TS libs declare none: no DOM lib). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (limits: { initial: number; maximum: number }) => WasmMemory;
  Instance: new (module: object, imports: object) => { exports: Record<string, Kernel> };
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** The SIMD loops bound to one memory; addresses are byte offsets into {@link memory}'s buffer. */
export interface SimdKernels {
  readonly memory: WasmMemory;
  /** `acc (+)= w * x` over `count` elements (a multiple of 4) stored as `kind` at byte `x`. */
  accumulate(kind: StoredKind, first: boolean, acc: number, x: number, w: number, count: number): void;
  /** float64 at `acc` to float32 at `out` (`out <= acc`: in place), `count` a multiple of 4. */
  demote(acc: number, out: number, count: number): void;
}

let compiled: object | null | undefined;

/**
 * The compiled module, or null where WebAssembly SIMD is unavailable (the JS loops are used then). Worker
 * threads get this object (a `WebAssembly.Module` can be posted to them) and instantiate it over their own memory.
 */
export function simdModule(): object | null {
  if (compiled === undefined) {
    try {
      compiled = wasm ? new wasm.Module(moduleBytes()) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** Instantiates the kernels over a fixed memory of at least `bytes` bytes (never grown: views stay valid), or null. */
export function simdKernels(bytes: number): SimdKernels | null {
  const mod = simdModule();
  if (!mod) return null;
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  const memory = new wasm!.Memory({ initial: pages, maximum: pages });
  const e = new wasm!.Instance(mod, { m: { memory } }).exports;
  const size = { f32: 4, bf16: 2, f64: 8 } as const;
  return {
    memory,
    accumulate(kind, first, acc, x, w, count) {
      if (count > 0) e[`${first ? 'set' : 'add'}_${kind}`]!(acc, x, w, x + count * size[kind]);
    },
    demote(acc, out, count) {
      if (count > 0) e.demote!(acc, out, 0, out + count * 4);
    },
  };
}
