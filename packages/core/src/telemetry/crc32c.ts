/** CRC-32C (Castagnoli) lookup table for the reflected polynomial 0x82f63b78, one entry per byte value. */
const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32C (Castagnoli, the checksum of TFRecord files) of `data`, as an unsigned 32-bit number.
 * `crc32c(utf8("123456789")) === 0xe3069283`.
 */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * The masked CRC-32C that TFRecord stores: `((crc >>> 15) | (crc << 17)) + 0xa282ead8`, modulo 2^32. Masking
 * keeps a CRC of data that itself holds CRCs from being trivially zero.
 */
export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}
