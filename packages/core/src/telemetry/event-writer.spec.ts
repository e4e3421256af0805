import { existsSync } from 'node:fs';
import { appendFile, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tempDir } from '@xlt/plugin-api/testing';
import { decodeEvent } from './event-protobuf.js';
import { EVENT_FILE_VERSION, EventFileWriter, trimEventFiles } from './event-writer.js';
import { readTfRecords } from './tfrecord.js';

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir: root, cleanup } = await tempDir('xlt-event-writer-')));
afterAll(() => cleanup());

async function events(file: string) {
  const scan = readTfRecords(new Uint8Array(await readFile(file)), file);
  expect(scan.tornAt).toBeUndefined();
  return scan.records.map((r, i) => decodeEvent(r.data, `record ${i}`));
}

describe('TensorBoard event files', () => {
  test('named events.out.tfevents.<seconds>.<host>, created at the first scalar, file_version first', async () => {
    const dir = join(root, 'named', 'tensorboard');
    let now = 1_700_000_000.75;
    const writer = new EventFileWriter(dir, { now: () => now, host: 'node7' });
    expect(writer.path).toBeUndefined();
    expect(existsSync(dir)).toBe(false);
    await writer.addScalars(10, { 'train/loss': 0.5 });
    now += 1;
    await writer.addScalars(20, [{ tag: 'train/loss', value: 0.25 }]);
    writer.close();
    expect(writer.path).toBe(join(dir, 'events.out.tfevents.1700000000.node7'));
    const read = await events(writer.path!);
    expect(read[0]).toEqual({ wallTime: 1_700_000_000.75, step: 0, fileVersion: EVENT_FILE_VERSION });
    expect(read.slice(1)).toEqual([
      { wallTime: 1_700_000_000.75, step: 10, scalars: [{ tag: 'train/loss', value: 0.5 }] },
      { wallTime: 1_700_000_001.75, step: 20, scalars: [{ tag: 'train/loss', value: 0.25 }] },
    ]);
    // A second session in the same second gets a file of its own.
    const again = new EventFileWriter(dir, { now: () => 1_700_000_000, host: 'node7' });
    await again.addScalars(30, { x: 1 });
    again.close();
    expect(again.path).toBe(join(dir, 'events.out.tfevents.1700000000.node7.1'));
  });

  test('trimming for a resumed session drops later steps and a torn record, and files left with nothing', async () => {
    const dir = join(root, 'trim');
    const first = new EventFileWriter(dir, { now: () => 100, host: 'h' });
    for (const step of [2, 4, 6]) await first.addScalars(step, { 'train/loss': step });
    first.close();
    const second = new EventFileWriter(dir, { now: () => 200, host: 'h' });
    await second.addScalars(8, { 'train/loss': 8 });
    second.close();
    // A crash mid-write: half a record at the end of the first file.
    await appendFile(first.path!, new Uint8Array([9, 0, 0, 0, 0, 0]));
    expect(await trimEventFiles(dir, 4)).toEqual([first.path, second.path]);
    expect(await readdir(dir)).toEqual(['events.out.tfevents.100.h']);
    expect((await events(first.path!)).map((e) => e.step)).toEqual([0, 2, 4]);
    expect(await trimEventFiles(dir, 4)).toEqual([]);
  });
});
