/**
 * A 32-bit seed derived from a run seed and labels (epoch, step, micro-batch, purpose), so that each random
 * draw of a run depends only on where it happens: a resumed run draws exactly what an uninterrupted one would.
 */
export function deriveSeed(seed: number, ...parts: readonly (number | string)[]): number {
  let h = (seed >>> 0) ^ 0x9e3779b9;
  for (const part of parts) {
    const text = String(part);
    for (let i = 0; i < text.length; i++) {
      h = Math.imul(h ^ text.charCodeAt(i), 0x85ebca6b);
      h ^= h >>> 13;
    }
    h = Math.imul(h ^ 0x2f, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}
