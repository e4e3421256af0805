import { InputError } from '@xlt/plugin-api';

/**
 * A Python global that a pickle may name. Pickle's GLOBAL + REDUCE is a function call, so an unpickler that
 * imports what the data names runs code the file chooses; this one only knows the globals it is given.
 */
export interface AllowedGlobal {
  /** What REDUCE does with the argument tuple; absent for globals that are only values (a storage type). */
  readonly call?: (args: readonly unknown[]) => unknown;
}

/** A global named by the pickle and found in the allow-list, as a value on the stack. */
export class PyGlobal {
  constructor(
    /** `module.name`, e.g. `torch.FloatStorage`. */
    readonly qualifiedName: string,
    readonly allowed: AllowedGlobal,
  ) {}
}

/** Thrown by an {@link AllowedGlobal.call} or a persistent loader for bad arguments; the unpickler adds where. */
export class PickleValueError extends Error {
  constructor(
    readonly expected: string,
    readonly found: string,
  ) {
    super(`expected ${expected}, found ${found}`);
  }
}

/** The pickle ended before STOP; callers reading a stream of pickles retry with more bytes. */
export class TruncatedPickleError extends InputError {}

/** Where and with what {@link unpickle} works. */
export interface UnpickleOptions {
  /** The file named in errors. */
  readonly file: string;
  /** The pickle inside the file named in errors (a zip entry), if any. */
  readonly part?: string;
  /** Byte offset in `bytes` where the pickle starts; errors give offsets relative to `base + start`. */
  readonly start?: number;
  /** Offset of `bytes[0]` in the file, for messages. */
  readonly base?: number;
  /** The only globals GLOBAL / STACK_GLOBAL may name, by `module.name`. */
  readonly globals: ReadonlyMap<string, AllowedGlobal>;
  /** Resolves BINPERSID ids (PyTorch's storages); without it BINPERSID is refused. */
  readonly persistentLoad?: (id: unknown) => unknown;
}

const NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

/**
 * Rebuilds the value of one pickle (protocols 2 to 5) without running code: containers, numbers, strings and
 * bytes are built directly; GLOBAL / STACK_GLOBAL resolve only names in `options.globals`, and REDUCE calls only
 * their `call`. Any other global, a REDUCE of something else, and the opcodes that construct arbitrary objects
 * (INST, OBJ, NEWOBJ, EXT*) are refused with an {@link InputError} naming the file, the byte and what was asked
 * for. Dicts become `Map`s, tuples and lists arrays, ints numbers (or bigints beyond 2^53), None null.
 * Returns the value and the offset just past STOP.
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): { value: unknown; end: number } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder('utf-8', { fatal: true });
  const latin1 = new TextDecoder('latin1');
  const base = options.base ?? 0;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let p = options.start ?? 0;
  let op = 0;
  let opAt = p;

  const where = (at = opAt) => `${options.part ? `${options.part}, ` : ''}pickle byte ${base + at}`;
  const fail = (expected: string, found: string, at?: number): never => {
    throw new InputError([{ file: options.file, path: where(at), expected, found }]);
  };
  const need = (n: number) => {
    if (p + n > bytes.byteLength) {
      throw new TruncatedPickleError([{ file: options.file, path: where(), expected: `${n} more bytes for ${NAMES[op] ?? 'the pickle'}`, found: 'the end of the data (truncated pickle)' }]);
    }
  };
  const take = (n: number): Uint8Array => {
    need(n);
    p += n;
    return bytes.subarray(p - n, p);
  };
  const decode = (b: Uint8Array) => {
    try {
      return text.decode(b);
    } catch {
      return fail('UTF-8 text', 'invalid UTF-8');
    }
  };
  const line = (): string => {
    const nl = bytes.indexOf(0x0a, p);
    if (nl < 0) need(bytes.byteLength - p + 1);
    const s = latin1.decode(bytes.subarray(p, nl));
    p = nl + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1]!)) fail(`a value on the stack for ${NAMES[op]}`, 'an empty stack (malformed pickle)');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1]!)) fail(`a value on the stack for ${NAMES[op]}`, 'an empty stack (malformed pickle)');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) return fail(`a MARK before ${NAMES[op]}`, 'none (malformed pickle)');
    return stack.splice(m);
  };
  const getMemo = (k: number) => {
    if (!memo.has(k)) fail(`memo entry ${k} (stored by an earlier PUT)`, 'no such entry (malformed pickle)');
    return memo.get(k);
  };
  const resolve = (module: string, name: string): PyGlobal => {
    const qualified = `${module}.${name}`;
    const allowed = options.globals.get(qualified);
    if (!allowed) {
      fail(
        `one of the globals a checkpoint of tensors needs (${[...options.globals.keys()].join(', ')})`,
        `${NAMES[op]} ${qualified} (refused: xlt never imports or runs what a checkpoint names)`,
      );
    }
    return new PyGlobal(qualified, allowed!);
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) fail(`a dict under ${NAMES[op]}`, describePickled(target));
    if (items.length % 2) fail(`key-value pairs for ${NAMES[op]}`, `${items.length} items`);
    for (let i = 0; i < items.length; i += 2) (target as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const append = (target: unknown, items: unknown[]) => {
    if (!Array.isArray(target) || Object.isFrozen(target)) fail(`a list under ${NAMES[op]}`, describePickled(target));
    (target as unknown[]).push(...items);
  };
  const signedLE = (b: Uint8Array): number | bigint => {
    let n = 0n;
    for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
    if (b.length && b[b.length - 1]! & 0x80) n -= 1n << BigInt(8 * b.length);
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  };

  for (;;) {
    opAt = p;
    need(1);
    op = bytes[p++]!;
    switch (op) {
      case 0x80: // PROTO
        if (take(1)[0]! > 5) fail('pickle protocol 2 to 5', `protocol ${bytes[p - 1]}`);
        break;
      case 0x95: // FRAME: a length hint only
        take(8);
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length) fail('one value on the stack at STOP', `${stack.length} values and ${marks.length} open MARKs (malformed pickle)`);
        return { value: stack[0], end: p };
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e:
        stack.push(null);
        break;
      case 0x88:
        stack.push(true);
        break;
      case 0x89:
        stack.push(false);
        break;
      case 0x4a:
        need(4);
        stack.push(dv.getInt32(p, true));
        p += 4;
        break;
      case 0x4b:
        stack.push(take(1)[0]!);
        break;
      case 0x4d:
        need(2);
        stack.push(dv.getUint16(p, true));
        p += 2;
        break;
      case 0x8a: // LONG1
        stack.push(signedLE(take(take(1)[0]!)));
        break;
      case 0x8b: {
        need(4);
        const n = dv.getInt32(p, true);
        p += 4;
        // Tensors need 64-bit integers at most; a huge one would only cost quadratic time to parse.
        if (n < 0 || n > 64) fail('a LONG4 integer of 0 to 64 bytes', `${n} bytes`);
        stack.push(signedLE(take(n)));
        break;
      }
      case 0x47: // BINFLOAT, big-endian
        need(8);
        stack.push(dv.getFloat64(p, false));
        p += 8;
        break;
      case 0x58: {
        need(4);
        const n = dv.getUint32(p, true);
        p += 4;
        stack.push(decode(take(n)));
        break;
      }
      case 0x8c:
        stack.push(decode(take(take(1)[0]!)));
        break;
      case 0x8d: {
        need(8);
        const n = Number(dv.getBigUint64(p, true));
        p += 8;
        stack.push(decode(take(n)));
        break;
      }
      case 0x55: // SHORT_BINSTRING: Python 2 str, read as latin-1 as Python 3 does with encoding='latin1'
        stack.push(latin1.decode(take(take(1)[0]!)));
        break;
      case 0x54: {
        need(4);
        const n = dv.getUint32(p, true);
        p += 4;
        stack.push(latin1.decode(take(n)));
        break;
      }
      case 0x43:
        stack.push(take(take(1)[0]!).slice());
        break;
      case 0x42: {
        need(4);
        const n = dv.getUint32(p, true);
        p += 4;
        stack.push(take(n).slice());
        break;
      }
      case 0x8e: {
        need(8);
        const n = Number(dv.getBigUint64(p, true));
        p += 8;
        stack.push(take(n).slice());
        break;
      }
      case 0x7d:
        stack.push(new Map());
        break;
      case 0x64: {
        const items = popMark();
        const d = new Map();
        setItems(d, items);
        stack.push(d);
        break;
      }
      case 0x5d:
        stack.push([]);
        break;
      case 0x6c: {
        const items = popMark();
        stack.push(items);
        break;
      }
      case 0x29:
        stack.push(Object.freeze([]));
        break;
      case 0x74: {
        const items = popMark();
        stack.push(Object.freeze(items));
        break;
      }
      case 0x85:
      case 0x86:
      case 0x87: {
        const n = op - 0x84;
        const items: unknown[] = [];
        for (let i = 0; i < n; i++) items.unshift(pop());
        stack.push(Object.freeze(items));
        break;
      }
      case 0x73: {
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: {
        const value = pop();
        append(top(), [value]);
        break;
      }
      case 0x65: {
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x71:
        memo.set(take(1)[0]!, top());
        break;
      case 0x72:
        need(4);
        memo.set(dv.getUint32(p, true), top());
        p += 4;
        break;
      case 0x94:
        memo.set(memo.size, top());
        break;
      case 0x68:
        stack.push(getMemo(take(1)[0]!));
        break;
      case 0x6a:
        need(4);
        stack.push(getMemo(dv.getUint32(p, true)));
        p += 4;
        break;
      case 0x63: {
        const module = line();
        stack.push(resolve(module, line()));
        break;
      }
      case 0x93: {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('a module and a name (strings) for STACK_GLOBAL', `${describePickled(module)} and ${describePickled(name)}`);
        stack.push(resolve(module as string, name as string));
        break;
      }
      case 0x51: {
        const id = pop();
        if (!options.persistentLoad) fail('no persistent ids (BINPERSID)', 'one');
        stack.push(call(() => options.persistentLoad!(id)));
        break;
      }
      case 0x52: {
        const args = pop();
        const callable = pop();
        if (!(callable instanceof PyGlobal) || !callable.allowed.call) {
          fail('REDUCE of a function that rebuilds tensors or dicts', `REDUCE of ${callable instanceof PyGlobal ? callable.qualifiedName : describePickled(callable)} (refused: not callable here)`);
        }
        if (!Array.isArray(args)) fail(`an argument tuple for ${(callable as PyGlobal).qualifiedName}`, describePickled(args));
        stack.push(call(() => (callable as PyGlobal).allowed.call!(args as unknown[])));
        break;
      }
      case 0x62: {
        // BUILD sets instance attributes; only a dict's (an OrderedDict's `_metadata`) are accepted, and dropped.
        const state = pop();
        if (!(top() instanceof Map) || !(state instanceof Map || state === null)) fail('BUILD of attributes on a dict (a state dict\'s _metadata)', `BUILD of ${describePickled(state)} on ${describePickled(top())}`);
        break;
      }
      default:
        fail(
          'an opcode that builds plain data or calls an allowed global',
          `opcode ${NAMES[op] ?? `0x${op.toString(16).padStart(2, '0')}`}${NAMES[op] ? ' (refused: it can construct arbitrary objects, or is not needed for tensors)' : ' (unknown)'}`,
        );
    }
  }

  function call(f: () => unknown): unknown {
    try {
      return f();
    } catch (error) {
      if (error instanceof PickleValueError) return fail(error.expected, error.found);
      throw error;
    }
  }
}

/** A short description of an unpickled value, for error messages. */
export function describePickled(value: unknown): string {
  if (value === null) return 'None';
  if (value instanceof PyGlobal) return `the global ${value.qualifiedName}`;
  if (value instanceof Map) return `a dict of ${value.size}`;
  if (Array.isArray(value)) return `${Object.isFrozen(value) ? 'a tuple' : 'a list'} of ${value.length}`;
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'an object';
  return `${typeof value} ${String(value)}`;
}
