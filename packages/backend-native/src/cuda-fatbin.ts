/** One code object inside a CUDA fat binary: a cubin (machine code) or PTX, for one GPU architecture. */
export interface FatbinEntry {
  readonly kind: 'cubin' | 'ptx';
  /** `sm_80`, `sm_90`, ... */
  readonly arch: string;
}

const FATBIN_MAGIC = 0xba55ed50;

/**
 * Lists the code objects of every CUDA fat binary embedded in a shared object (nvcc's `.nv_fatbin` data): what
 * `cuobjdump --list-elf --list-ptx` tells, without the CUDA tools that this check runs where they are absent. The
 * layout read here: a 16-byte header (magic 0xBA55ED50, version, header size, payload size), then entries of
 * (kind: 1 PTX, 2 cubin; version; header size; payload size; ...; the architecture as a number at byte 28).
 */
export function fatbinEntries(binary: Buffer): FatbinEntry[] {
  const out: FatbinEntry[] = [];
  for (let at = binary.indexOf(magicBytes()); at >= 0; at = binary.indexOf(magicBytes(), at + 4)) {
    if (at + 16 > binary.length) break;
    const headerSize = binary.readUInt16LE(at + 6);
    const size = Number(binary.readBigUInt64LE(at + 8));
    const end = Math.min(binary.length, at + headerSize + size);
    for (let p = at + headerSize; p + 32 <= end; ) {
      const kind = binary.readUInt16LE(p);
      const entryHeader = binary.readUInt32LE(p + 4);
      const payload = Number(binary.readBigUInt64LE(p + 8));
      if ((kind !== 1 && kind !== 2) || entryHeader < 32) break;
      out.push({ kind: kind === 2 ? 'cubin' : 'ptx', arch: `sm_${binary.readUInt32LE(p + 28)}` });
      p += entryHeader + payload;
    }
  }
  return out;
}

function magicBytes(): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(FATBIN_MAGIC);
  return b;
}
