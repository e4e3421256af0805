/**
 * Seeded mutations of valid inputs, shared by the `malformed-*.fault.ts` suites. Every mutant is drawn from its own
 * seed (`baseSeed + index`), so a failure names one number that rebuilds exactly that mutant: set `XLT_FAULT_SEED`
 * to replay a run with another base seed.
 */
import { gzipSync } from 'node:zlib';
import { seededRandom, XltError } from '@xlt/plugin-api';

/** The base seed of this run: `XLT_FAULT_SEED`, else a fixed one so that CI repeats. */
export const BASE_SEED = Number(process.env.XLT_FAULT_SEED ?? 20_2026);

/** A generated bad input: how it was made and its bytes. */
export interface Mutant {
  readonly seed: number;
  readonly op: string;
  readonly bytes: Buffer;
}

type Random = () => number;
const int = (random: Random, n: number) => Math.floor(random() * n);
const pick = <T>(random: Random, items: readonly T[]): T => items[int(random, items.length)]!;

/** Bytes that tend to matter to parsers: separators, quotes, brackets, NUL, a lone UTF-8 lead byte, invalid bytes. */
const NASTY = [0x00, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x2c, 0x3a, 0x5b, 0x5d, 0x7b, 0x7d, 0x23, 0x2d, 0xc3, 0xff, 0xfe, 0xef];

/** Splits into lines keeping each line's end, so that joining gives the input back. */
function lines(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a) {
      out.push(bytes.subarray(start, i + 1));
      start = i + 1;
    }
  }
  if (start < bytes.length) out.push(bytes.subarray(start));
  return out;
}

/** Byte- and line-level mutations that apply to any text format. */
const TEXT_OPS: Record<string, (b: Buffer, r: Random) => Buffer> = {
  truncate: (b, r) => b.subarray(0, int(r, b.length)),
  flipBit: (b, r) => {
    const out = Buffer.from(b);
    const at = int(r, out.length);
    out[at] = out[at]! ^ (1 << int(r, 8));
    return out;
  },
  insertByte: (b, r) => {
    const at = int(r, b.length + 1);
    return Buffer.concat([b.subarray(0, at), Buffer.from([pick(r, NASTY)]), b.subarray(at)]);
  },
  deleteBytes: (b, r) => {
    const at = int(r, b.length);
    return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + int(r, 8))]);
  },
  deleteLine: (b, r) => {
    const ls = lines(b);
    ls.splice(int(r, ls.length), 1);
    return Buffer.concat(ls);
  },
  duplicateLine: (b, r) => {
    const ls = lines(b);
    const at = int(r, ls.length);
    ls.splice(at, 0, ls[at]!);
    return Buffer.concat(ls);
  },
  swapLines: (b, r) => {
    const ls = lines(b);
    const [i, j] = [int(r, ls.length), int(r, ls.length)];
    [ls[i], ls[j]] = [ls[j]!, ls[i]!];
    return Buffer.concat(ls);
  },
  removeTab: (b, r) => {
    const tabs = [...b.keys()].filter((i) => b[i] === 0x09);
    if (tabs.length === 0) return Buffer.concat([b, Buffer.from('\t')]);
    const at = pick(r, tabs);
    return Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
  },
  insertTab: (b, r) => {
    const at = int(r, b.length + 1);
    return Buffer.concat([b.subarray(0, at), Buffer.from('\t'), b.subarray(at)]);
  },
  invalidUtf8: (b, r) => {
    const at = int(r, b.length + 1);
    return Buffer.concat([b.subarray(0, at), Buffer.from(pick(r, [[0xff], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80]])), b.subarray(at)]);
  },
  crlf: (b) => Buffer.from(b.toString('latin1').replace(/\n/g, '\r\n'), 'latin1'),
  empty: () => Buffer.alloc(0),
  whitespace: (_b, r) => Buffer.from(pick(r, [' ', '\n', '\n\n\n', '\t', ' \t\r\n', '\uFEFF', '\uFEFF\n'])),
  gzipTruncated: (b, r) => {
    const gz = gzipSync(b);
    return gz.subarray(0, 2 + int(r, gz.length - 2));
  },
  gzipOfMutant: (b, r) => gzipSync(TEXT_OPS[pick(r, ['truncate', 'flipBit', 'deleteLine', 'insertByte'])]!(b, r)),
};

/** A JSON value at a random place of `root` with its parent and key (the root itself has none). */
function randomNode(root: unknown, r: Random): { parent?: Record<string, unknown> | unknown[]; key?: string | number } {
  const places: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (v: unknown) => {
    if (v === null || typeof v !== 'object') return;
    const entries: [string | number, unknown][] = Array.isArray(v) ? v.map((c, i) => [i, c]) : Object.entries(v);
    for (const [key, child] of entries) {
      places.push({ parent: v as Record<string, unknown> | unknown[], key });
      walk(child);
    }
  };
  walk(root);
  return places.length === 0 ? {} : pick(r, places);
}

const ODD_VALUES: readonly unknown[] = [null, true, 0, -1, 1.5, 1e308, '', 'x', [], {}, [1, 'a'], { a: 1 }, '\u0000', -0.0];

/** Structural JSON mutations: drop, rename or retype a field, or wrap or empty a container. */
const JSON_OPS: Record<string, (root: unknown, r: Random) => unknown> = {
  dropField: (root, r) => {
    const { parent, key } = randomNode(root, r);
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else if (parent) delete parent[key as string];
    return root;
  },
  renameField: (root, r) => {
    const { parent, key } = randomNode(root, r);
    if (parent && !Array.isArray(parent)) {
      const value = parent[key as string];
      delete parent[key as string];
      parent[`${String(key)}${pick(r, ['_', 'X', ' ', 's'])}`] = value;
    }
    return root;
  },
  retype: (root, r) => {
    const { parent, key } = randomNode(root, r);
    if (parent === undefined) return pick(r, ODD_VALUES);
    (parent as Record<string | number, unknown>)[key!] = structuredClone(pick(r, ODD_VALUES));
    return root;
  },
  numberEdge: (root, r) => {
    const { parent, key } = randomNode(root, r);
    if (parent) (parent as Record<string | number, unknown>)[key!] = pick(r, [0, -1, -1e9, 1e9, 0.5, 2 ** 53 + 1, -0.0]);
    return root;
  },
  wrapInArray: (root) => [root],
};

/** Which mutation families a format takes: plain text only, or JSON documents / JSON Lines as well. */
export type MutationKind = 'text' | 'json' | 'jsonl';

function jsonMutant(text: string, kind: 'json' | 'jsonl', r: Random, op: string): Buffer {
  if (kind === 'json') return Buffer.from(JSON.stringify(JSON_OPS[op]!(JSON.parse(text), r), null, 2) + '\n');
  const rows = text.split('\n').filter((l) => l.trim() !== '');
  const at = int(r, rows.length);
  rows[at] = JSON.stringify(JSON_OPS[op]!(JSON.parse(rows[at]!), r));
  return Buffer.from(rows.join('\n') + '\n');
}

/** `count` mutants of `valid`; JSON kinds draw half of them from the structural JSON mutations. */
export function mutants(valid: Buffer, count: number, kind: MutationKind = 'text', baseSeed = BASE_SEED): Mutant[] {
  const textOps = Object.keys(TEXT_OPS);
  const jsonOps = Object.keys(JSON_OPS);
  const out: Mutant[] = [];
  for (let i = 0; i < count; i++) {
    const seed = baseSeed + i;
    const r = seededRandom(seed);
    // Every text op comes up at least once in the first round, whatever the draw.
    const useJson = kind !== 'text' && i >= textOps.length && r() < 0.5;
    const op = useJson ? pick(r, jsonOps) : i < textOps.length ? textOps[i]! : pick(r, textOps);
    const bytes = useJson ? jsonMutant(valid.toString('utf8'), kind, r, op) : TEXT_OPS[op]!(valid, r);
    out.push({ seed, op, bytes });
  }
  return out;
}

/** A mutant as a failure message shows it: seed, op and its bytes as a JSON string (cut), so it can be rebuilt. */
export function showMutant(m: Mutant, max = 1200): string {
  const text = m.bytes[0] === 0x1f ? `gzip bytes ${m.bytes.subarray(0, 40).toString('hex')}…` : JSON.stringify(m.bytes.toString('latin1'));
  return `seed ${m.seed} (${m.op}, ${m.bytes.length} bytes): ${text.length > max ? `${text.slice(0, max)}…` : text}`;
}

/** How a call under fault ended: a value, an error, in what time. */
export type Outcome = { readonly ok: true; readonly value: unknown; readonly ms: number } | { readonly ok: false; readonly error: unknown; readonly ms: number };

/**
 * Runs `call` and records its end. A call slower than `limitMs` is a failure of its own (a reader that loops on bad
 * input); a synchronous endless loop cannot be interrupted from this thread, so the suite's timeout catches that one.
 */
export async function outcomeOf(call: () => unknown): Promise<Outcome> {
  const start = performance.now();
  try {
    const value = await call();
    return { ok: true, value, ms: performance.now() - start };
  } catch (error) {
    return { ok: false, error, ms: performance.now() - start };
  }
}

/**
 * Why a rejection is not the clean kind the project promises (an {@link XltError} whose message names `where`),
 * or undefined when it is.
 */
export function uncleanRejection(error: unknown, where: string): string | undefined {
  if (!(error instanceof XltError)) {
    const e = error as Error;
    return `not an XltError but ${e?.name ?? typeof error}: ${e?.stack ?? String(error)}`;
  }
  if (!error.message.includes(where)) return `${error.name} does not name ${where}: ${error.message}`;
  return undefined;
}

/** Limit on one call under fault. */
export const SLOW_MS = 5_000;

/** Fails with every collected problem at once (the first `show` in full), so one run shows the whole picture. */
export function reportFailures(label: string, failures: readonly string[], show = 8): void {
  if (failures.length === 0) return;
  const head = failures.slice(0, show).join('\n\n');
  throw new Error(`${label}: ${failures.length} mutant(s) failed (base seed ${BASE_SEED}; XLT_FAULT_SEED replays):\n\n${head}${failures.length > show ? `\n\n… and ${failures.length - show} more` : ''}`);
}
