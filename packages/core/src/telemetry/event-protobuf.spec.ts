import { describe, expect, test } from 'vitest';
import { decodeEvent, encodeEvent } from './event-protobuf.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('the Event protobuf', () => {
  test('the file_version event has the bytes protobuf gives it', () => {
    // wall_time (field 1, fixed64) 1.5, step (field 2, varint) 3, file_version (field 3, bytes) "brain.Event:2".
    const bytes = encodeEvent({ wallTime: 1.5, step: 3, fileVersion: 'brain.Event:2' });
    expect(hex(bytes)).toBe(`09000000000000f83f` + `1003` + `1a0d${Buffer.from('brain.Event:2').toString('hex')}`);
  });

  test('a summary of scalars nests Summary.Value { tag, simple_value } under field 5', () => {
    const bytes = encodeEvent({ wallTime: 0, step: 300, scalars: [{ tag: 'a', value: 0.5 }] });
    // step 300 is the varint ac 02; Value = 0a 01 'a' 15 <float32 0.5>; Summary = 0a 08 <Value>; Event field 5 = 2a 0a.
    expect(hex(bytes)).toBe('090000000000000000' + '10ac02' + '2a0a' + '0a08' + '0a0161' + '150000003f');
  });

  test('decodes what it encodes, float32 rounding aside', () => {
    const event = { wallTime: 1_733_000_000.25, step: 2 ** 40, scalars: [{ tag: 'train/loss', value: 0.1 }, { tag: 'train/learning_rate', value: 2e-5 }] };
    const back = decodeEvent(encodeEvent(event), 'test');
    expect(back.wallTime).toBe(event.wallTime);
    expect(back.step).toBe(2 ** 40);
    expect(back.scalars!.map((s) => s.tag)).toEqual(['train/loss', 'train/learning_rate']);
    expect(back.scalars![0]!.value).toBe(Math.fround(0.1));
    expect(back.scalars![1]!.value).toBe(Math.fround(2e-5));
  });

  test('a message cut short is an error naming it', () => {
    const bytes = encodeEvent({ wallTime: 1, step: 1, fileVersion: 'brain.Event:2' });
    expect(() => decodeEvent(bytes.subarray(0, bytes.length - 3), 'events.out.tfevents.1.host record 1')).toThrow(
      /events\.out\.tfevents\.1\.host record 1: a field of 13 bytes at byte \d+ runs past the end of the message/,
    );
  });
});
