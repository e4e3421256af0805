import { describe, expect, test } from 'vitest';
import { fatbinEntries } from './cuda-fatbin.js';

/** A fat binary as nvcc lays it out: header, then (kind, version, header size, payload size, ..., arch at 28) entries. */
function fatbin(entries: [kind: number, arch: number, payload: number][]): Buffer {
  const parts = entries.map(([kind, arch, payload]) => {
    const h = Buffer.alloc(64);
    h.writeUInt16LE(kind, 0);
    h.writeUInt16LE(0x101, 2);
    h.writeUInt32LE(64, 4);
    h.writeBigUInt64LE(BigInt(payload), 8);
    h.writeUInt32LE(arch, 28);
    return Buffer.concat([h, Buffer.alloc(payload, 7)]);
  });
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(16);
  head.writeUInt32LE(0xba55ed50, 0);
  head.writeUInt16LE(1, 4);
  head.writeUInt16LE(16, 6);
  head.writeBigUInt64LE(BigInt(body.length), 8);
  return Buffer.concat([Buffer.alloc(100, 1), head, body, Buffer.alloc(50, 2)]);
}

describe('fatbinEntries', () => {
  test('lists the cubins and PTX of every embedded fat binary, and nothing from other bytes', () => {
    const so = Buffer.concat([fatbin([[2, 80, 300], [1, 90, 40], [2, 90, 500]]), fatbin([[2, 75, 10]])]);
    expect(fatbinEntries(so)).toEqual([
      { kind: 'cubin', arch: 'sm_80' },
      { kind: 'ptx', arch: 'sm_90' },
      { kind: 'cubin', arch: 'sm_90' },
      { kind: 'cubin', arch: 'sm_75' },
    ]);
    expect(fatbinEntries(Buffer.alloc(1000, 3))).toEqual([]);
  });
});
