/**
 * A deterministic uniform [0, 1) generator (mulberry32). xlt draws every random number of a run (shuffling,
 * dropout masks, head initialisation, few-shot sampling) from seeded generators so that runs repeat exactly.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle of a copy, driven by `random`. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Standard normal draws (Box–Muller, both values of each pair used) over a uniform [0, 1) source. HF initialises
 * weights from normal(0, `initializer_range`); xlt draws them from seeded generators so that runs repeat.
 */
export function normalSampler(random: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(1 - random())); // 1 - u is in (0, 1], so the logarithm is finite
    const angle = 2 * Math.PI * random();
    spare = r * Math.sin(angle);
    return r * Math.cos(angle);
  };
}

/** `count` draws from normal(0, `std`), e.g. a weight matrix of a freshly initialised head. */
export function normalArray(count: number, std: number, random: () => number): Float32Array {
  const normal = normalSampler(random);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = std * normal();
  return out;
}
