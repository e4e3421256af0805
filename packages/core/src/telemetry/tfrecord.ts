import { XltError } from '@xlt/plugin-api';
import { maskedCrc32c } from './crc32c.js';

/** Bytes of a TFRecord frame around its data: length (8), CRC of the length (4), and CRC of the data (4). */
export const TFRECORD_OVERHEAD = 16;

/**
 * One TFRecord frame: `uint64 length` (little-endian), `uint32 masked_crc32c(length)`, `data`,
 * `uint32 masked_crc32c(data)`. A file of such frames is what TensorBoard reads as an event file.
 */
export function frameTfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + TFRECORD_OVERHEAD);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/** A record read back from a TFRecord file: its data and where its frame starts and ends in the file. */
export interface TfRecord {
  readonly data: Uint8Array;
  readonly start: number;
  readonly end: number;
}

/** What {@link readTfRecords} found: the complete records, and the byte offset where a torn tail starts, if any. */
export interface TfRecordScan {
  readonly records: TfRecord[];
  /** Offset of an incomplete last frame (a write cut short by a crash); `undefined` when the file ends cleanly. */
  readonly tornAt?: number;
}

/**
 * Reads every frame of a TFRecord file, checking both CRCs of each. An incomplete last frame (shorter than its
 * length says) is reported as `tornAt`, since a crash mid-write leaves exactly that; a CRC mismatch in a complete
 * frame is damage, and an error names the file, the offset and the expected and found checksums.
 */
export function readTfRecords(bytes: Uint8Array, file: string): TfRecordScan {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: TfRecord[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < 12) return { records, tornAt: offset };
    const lengthCrc = view.getUint32(offset + 8, true);
    const expectedLengthCrc = maskedCrc32c(bytes.subarray(offset, offset + 8));
    if (lengthCrc !== expectedLengthCrc) {
      throw new XltError(`${file}: the TFRecord length at byte ${offset} is damaged: expected its masked CRC-32C ${hex(expectedLengthCrc)}, found ${hex(lengthCrc)}.`);
    }
    const length = Number(view.getBigUint64(offset, true));
    const end = offset + length + TFRECORD_OVERHEAD;
    if (end > bytes.length) return { records, tornAt: offset };
    const data = bytes.subarray(offset + 12, offset + 12 + length);
    const dataCrc = view.getUint32(offset + 12 + length, true);
    const expectedDataCrc = maskedCrc32c(data);
    if (dataCrc !== expectedDataCrc) {
      throw new XltError(`${file}: the TFRecord data at byte ${offset} (${length} bytes) is damaged: expected its masked CRC-32C ${hex(expectedDataCrc)}, found ${hex(dataCrc)}.`);
    }
    records.push({ data, start: offset, end });
    offset = end;
  }
  return { records };
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
