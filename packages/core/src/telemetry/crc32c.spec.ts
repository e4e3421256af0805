import { describe, expect, test } from 'vitest';
import { crc32c, maskedCrc32c } from './crc32c.js';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('crc32c', () => {
  test('matches the standard check value and the iSCSI test vectors (RFC 3720, B.4)', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  test('the mask rotates right by 15 and adds 0xa282ead8, modulo 2^32', () => {
    const crc = 0xe3069283;
    const rotated = ((crc >>> 15) | (crc << 17)) >>> 0;
    expect(maskedCrc32c(ascii('123456789'))).toBe((rotated + 0xa282ead8) % 2 ** 32);
    // Worked by hand: 0xe3069283 rotated right by 15 is 0x2507c60d; plus 0xa282ead8 is 0xc78ab0e5.
    expect(maskedCrc32c(ascii('123456789'))).toBe(0xc78ab0e5);
  });
});
