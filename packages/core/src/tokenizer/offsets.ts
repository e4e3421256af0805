/**
 * `tokenizers` reports offsets in Unicode code points; JavaScript strings index UTF-16 code units. The two differ
 * after every character outside the Basic Multilingual Plane (emoji, rare CJK, Gothic, ...).
 */

/**
 * A function mapping a code-point offset in `text` to the UTF-16 offset of the same position. Offsets past the
 * end map to `text.length`.
 */
export function codePointToUtf16(text: string): (codePointOffset: number) => number {
  // Fast path: without surrogate pairs the two numberings agree.
  if (!/[\uD800-\uDBFF]/.test(text)) return (offset) => Math.min(offset, text.length);
  const table: number[] = [];
  let unit = 0;
  for (const char of text) {
    table.push(unit);
    unit += char.length;
  }
  table.push(unit);
  return (offset) => (offset < table.length ? table[offset]! : text.length);
}
