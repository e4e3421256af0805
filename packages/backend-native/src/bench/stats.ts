/** Median, min and count of a list of milliseconds. */
export function summary(xs: readonly number[]): { median_ms: number; min_ms: number; n: number } {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { median_ms: mid, min_ms: s[0]!, n: s.length };
}

/** Median of numbers. */
export function median(xs: readonly number[]): number {
  return summary(xs).median_ms;
}
