import { namingPath } from '@xlt/plugin-api';
import { closeSync, existsSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '@xlt/plugin-api';
import { decodeEvent, encodeEvent, type ScalarValue } from './event-protobuf.js';
import { frameTfRecord, readTfRecords } from './tfrecord.js';

/** Folder of a run's TensorBoard event files (`tensorboard --logdir <run or runs folder>`). */
export const EVENTS_FOLDER = 'tensorboard';

/** The `file_version` of the first record of every event file, as TensorFlow writes it. */
export const EVENT_FILE_VERSION = 'brain.Event:2';

/** Whether a file name is a TensorBoard event file (TensorBoard's own test: the name contains `tfevents`). */
export function isEventFile(name: string): boolean {
  return name.includes('tfevents');
}

/**
 * Removes from the event files of `dir` every record of a step after `keepUpToStep` (and a torn last record), so a
 * run resumed from a checkpoint does not show the steps it is about to redo twice. A file left with its
 * `file_version` record alone is deleted; a changed file is rewritten atomically. Returns the files changed.
 */
export async function trimEventFiles(dir: string, keepUpToStep: number): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const changed: string[] = [];
  for (const name of (await readdir(dir)).filter(isEventFile).sort()) {
    const file = join(dir, name);
    const bytes = new Uint8Array(await readFile(file));
    const scan = readTfRecords(bytes, file);
    const kept = scan.records.filter((r, i) => {
      const event = decodeEvent(r.data, `${file} record ${i + 1} (byte ${r.start})`);
      return event.fileVersion !== undefined || event.step <= keepUpToStep;
    });
    if (kept.length === scan.records.length && scan.tornAt === undefined) continue;
    changed.push(file);
    if (kept.every((r) => decodeEvent(r.data, file).fileVersion !== undefined)) {
      await rm(file, { force: true });
      continue;
    }
    const out = new Uint8Array(kept.reduce((n, r) => n + (r.end - r.start), 0));
    let at = 0;
    for (const r of kept) {
      out.set(bytes.subarray(r.start, r.end), at);
      at += r.end - r.start;
    }
    await writeFileAtomic(file, out);
  }
  return changed;
}

/** Options of {@link EventFileWriter}. */
export interface EventFileWriterOptions {
  /** Seconds since the epoch, for `wall_time` and the file name (default: the clock). */
  readonly now?: () => number;
  /** Host name in the file name (default: this machine's). */
  readonly host?: string;
}

/**
 * Writes scalars to a TensorBoard event file `events.out.tfevents.<seconds>.<host>` in a folder, as training goes:
 * each call appends one framed record with a single write, so a reader (or a crash) sees whole records. The file
 * is created at the first scalar (a session that logs nothing leaves no file), and its first record is the
 * `file_version` event TensorBoard expects.
 */
export class EventFileWriter {
  readonly #dir: string;
  readonly #now: () => number;
  readonly #host: string;
  #fd: number | undefined;
  #path: string | undefined;

  constructor(dir: string, options: EventFileWriterOptions = {}) {
    this.#dir = dir;
    this.#now = options.now ?? (() => Date.now() / 1000);
    this.#host = options.host ?? hostname();
  }

  /** The event file, once the first scalar created it. */
  get path(): string | undefined {
    return this.#path;
  }

  /** Appends one event with the given scalars (TensorBoard tags such as `train/loss`) at `step`. */
  async addScalars(step: number, scalars: Readonly<Record<string, number>> | readonly ScalarValue[]): Promise<void> {
    const values = Array.isArray(scalars) ? (scalars as readonly ScalarValue[]) : Object.entries(scalars).map(([tag, value]) => ({ tag, value }));
    if (values.length === 0) return;
    const fd = await this.#open();
    namingPath(this.#path!, () => writeSync(fd, frameTfRecord(encodeEvent({ wallTime: this.#now(), step, scalars: values }))));
  }

  /** Forces what was written to disk (called at checkpoints, where a run may later resume). */
  sync(): void {
    const fd = this.#fd;
    if (fd !== undefined) namingPath(this.#path!, () => fsyncSync(fd));
  }

  /** Closes the file; a later scalar would open a new one. */
  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  async #open(): Promise<number> {
    if (this.#fd !== undefined) return this.#fd;
    await mkdir(this.#dir, { recursive: true });
    const now = this.#now();
    const base = join(this.#dir, `events.out.tfevents.${Math.floor(now)}.${this.#host}`);
    // Two sessions of one run within a second (a quick resume) get distinct files; TensorBoard reads them in name order.
    let path = base;
    for (let n = 1; existsSync(path); n++) path = `${base}.${n}`;
    const fd = openSync(path, 'wx');
    namingPath(path, () => writeSync(fd, frameTfRecord(encodeEvent({ wallTime: now, step: 0, fileVersion: EVENT_FILE_VERSION }))));
    this.#fd = fd;
    this.#path = path;
    return fd;
  }
}
