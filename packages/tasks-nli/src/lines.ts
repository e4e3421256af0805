/**
 * The lines of a text file: LF or CRLF ends (XTREME writes CRLF, copies are often LF), no final empty line.
 * A byte-order mark at the very start is an encoding marker, not text, and is dropped; U+FEFF anywhere else is
 * content (XNLI hi has some inside premises) and is kept.
 */
export function textLines(text: string): string[] {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (body === '') return [];
  const lines = body.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

/** Most issues one InputError lists, so that one bad file does not flood the terminal. */
export const ISSUE_LIMIT = 20;
