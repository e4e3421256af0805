import type { SafetensorsCheckpoint } from '@xlt/core';

/** One positioned read of a tensor's bytes: `length` bytes starting `offset` bytes into tensor `name`. */
export interface TensorRead {
  readonly checkpoint: SafetensorsCheckpoint;
  readonly name: string;
  readonly offset: number;
  readonly length: number;
}

interface Pending {
  readonly start: number;
  readonly end: number;
  readonly done: Promise<void>;
}

/**
 * A fixed byte arena that reads ahead: given the reads a consumer will ask for, in order, it keeps up to
 * `maxInFlight` of them running (on libuv's thread pool) while the consumer does arithmetic on the current one,
 * so the copy out of the page cache overlaps the math. Memory is the arena, whatever the number of inputs.
 *
 * The arena is a ring: reads are placed one after another (8-byte aligned, so typed-array views of any float
 * dtype work whatever the tensor's offset in its file) and released in the order they were handed out.
 */
export class ReadAhead {
  readonly #arena: Uint8Array;
  readonly #maxInFlight: number;
  readonly #queue: Pending[] = [];
  #reads: Iterator<TensorRead> | undefined;
  #next: TensorRead | undefined;
  #holding = false;

  /** `arena`: where the reads go (its start 8-byte aligned); `maxInFlight`: reads running beyond the one in use. */
  constructor(arena: Uint8Array, maxInFlight: number) {
    if (arena.byteOffset % 8 !== 0) throw new RangeError('ReadAhead: the arena must start 8-byte aligned');
    this.#arena = arena;
    this.#maxInFlight = maxInFlight;
  }

  /** Largest single read the arena holds. */
  get capacity(): number {
    return this.#arena.byteLength;
  }

  /** Starts a new sequence of reads; the previous one must be finished or {@link drain}ed. */
  start(reads: Iterable<TensorRead>): void {
    if (this.#queue.length > 0) throw new Error('ReadAhead.start: the previous reads are still pending');
    this.#reads = reads[Symbol.iterator]();
    this.#next = this.#reads.next().value;
    this.#holding = false;
    this.#fill();
  }

  /**
   * The bytes of the next read of the sequence (8-byte aligned). The view stays valid until the next call, which
   * releases it; undefined when the sequence is over.
   */
  async next(): Promise<Uint8Array | undefined> {
    if (this.#holding) {
      this.#queue.shift();
      this.#holding = false;
    }
    this.#fill();
    const head = this.#queue[0];
    if (!head) return undefined;
    this.#holding = true;
    await head.done;
    return this.#arena.subarray(head.start, head.end);
  }

  /** Waits for every read still running (after an error, before the files are closed), then forgets them. */
  async drain(): Promise<void> {
    this.#reads = undefined;
    this.#next = undefined;
    await Promise.allSettled(this.#queue.map((p) => p.done));
    this.#queue.length = 0;
    this.#holding = false;
  }

  #fill(): void {
    const queue = this.#queue;
    while (this.#next !== undefined && queue.length < this.#maxInFlight + (this.#holding ? 1 : 0)) {
      const read = this.#next;
      const start = this.#place(read.length);
      if (start < 0) {
        if (queue.length === 0) throw new RangeError(`ReadAhead: a read of ${read.length} bytes does not fit in ${this.capacity} bytes`);
        return;
      }
      const target = this.#arena.subarray(start, start + read.length);
      const done = read.checkpoint.readInto(read.name, target, read.offset);
      // Awaited in order by next(); this only keeps a failure of a read not yet awaited from being "unhandled".
      done.catch(() => undefined);
      queue.push({ start, end: start + read.length, done });
      this.#next = this.#reads!.next().value;
    }
  }

  /** Where a read of `length` bytes goes in the ring, or -1 when it must wait for earlier reads to be released. */
  #place(length: number): number {
    const size = (length + 7) & ~7;
    const cap = this.#arena.byteLength;
    const queue = this.#queue;
    if (queue.length === 0) return size <= cap ? 0 : -1;
    const first = queue[0]!.start;
    const end = (queue[queue.length - 1]!.end + 7) & ~7;
    if (first < end) {
      if (cap - end >= size) return end;
      return first >= size ? 0 : -1;
    }
    return first - end >= size ? end : -1;
  }
}
