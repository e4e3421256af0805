import { describe, expect, test } from 'vitest';
import { maskedCrc32c } from './crc32c.js';
import { frameTfRecord, readTfRecords } from './tfrecord.js';

const ascii = (s: string) => new TextEncoder().encode(s);
const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

describe('TFRecord framing', () => {
  test('a frame is uint64 length, masked CRC of the length, the data, masked CRC of the data (little-endian)', () => {
    const data = ascii('hello');
    const frame = frameTfRecord(data);
    const view = new DataView(frame.buffer);
    expect(frame.length).toBe(5 + 16);
    expect(view.getBigUint64(0, true)).toBe(5n);
    expect(view.getUint32(8, true)).toBe(maskedCrc32c(frame.subarray(0, 8)));
    expect([...frame.subarray(12, 17)]).toEqual([...data]);
    expect(view.getUint32(17, true)).toBe(maskedCrc32c(data));
  });

  test('reads the frames back, and reports a torn last frame instead of failing', () => {
    const a = frameTfRecord(ascii('first'));
    const b = frameTfRecord(ascii('second record'));
    const whole = readTfRecords(concat(a, b), 'f');
    expect(whole.tornAt).toBeUndefined();
    expect(whole.records.map((r) => new TextDecoder().decode(r.data))).toEqual(['first', 'second record']);
    expect(whole.records.map((r) => [r.start, r.end])).toEqual([[0, a.length], [a.length, a.length + b.length]]);
    for (const cut of [1, 11, 12, 20, b.length - 1]) {
      const torn = readTfRecords(concat(a, b.subarray(0, cut)), 'f');
      expect(torn.records).toHaveLength(1);
      expect(torn.tornAt).toBe(a.length);
    }
  });

  test('a damaged CRC is an error naming the file, the offset and both checksums', () => {
    const a = frameTfRecord(ascii('first'));
    const b = frameTfRecord(ascii('second'));
    const damaged = concat(a, b);
    damaged[a.length + 13]! ^= 0xff; // a byte of the second record's data
    expect(() => readTfRecords(damaged, 'run/tensorboard/events.out.tfevents.1.h')).toThrow(
      new RegExp(`run/tensorboard/events\\.out\\.tfevents\\.1\\.h: the TFRecord data at byte ${a.length} \\(6 bytes\\) is damaged: expected its masked CRC-32C 0x[0-9a-f]{8}, found 0x[0-9a-f]{8}`),
    );
    const badLength = concat(a);
    badLength[0] = 6;
    expect(() => readTfRecords(badLength, 'x')).toThrow(/x: the TFRecord length at byte 0 is damaged/);
  });
});
