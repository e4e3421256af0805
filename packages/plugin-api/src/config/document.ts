import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isMap, isSeq, isNode, type Node } from 'yaml';
import { InputError } from '../errors.js';

/** A parsed JSON or YAML file that can tell where each JSON path is in the text. */
export interface LocatedDocument {
  readonly file: string;
  readonly value: unknown;
  /** Line and column (1-based) of the value at `path`, or of its nearest existing parent. */
  locate(path: readonly PropertyKey[]): { line?: number; column?: number };
}

/** Parses JSON or YAML text (JSON is YAML), keeping source positions for error messages. */
export function parseLocated(text: string, file: string): LocatedDocument {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new InputError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
        return { file, line: pos?.line, column: pos?.col, expected: 'valid JSON or YAML', found: e.message.split('\n')[0] };
      }),
      `Cannot parse ${file}:`,
    );
  }
  const locate = (path: readonly PropertyKey[]) => {
    let node: unknown = doc.contents;
    let best: Node | undefined = isNode(node) ? node : undefined;
    for (const key of path) {
      if (isMap(node)) node = node.items.find((p) => (isNode(p.key) ? (p.key as { value?: unknown }).value : p.key) === key)?.value;
      else if (isSeq(node) && typeof key === 'number') node = node.items[key];
      else break;
      if (isNode(node)) best = node;
      else break;
    }
    if (!best?.range) return {};
    const pos = lineCounter.linePos(best.range[0]);
    return { line: pos.line, column: pos.col };
  };
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (error) {
    // yaml stops alias bombs (anchors expanding exponentially) with a ReferenceError: a bad input, not a crash.
    throw new InputError([{ file, expected: 'JSON or YAML whose aliases expand to a reasonable size', found: (error as Error).message }], `Cannot parse ${file}:`);
  }
  return { file, value, locate };
}

/** Reads and parses a JSON or YAML file. */
export async function readLocated(file: string): Promise<LocatedDocument> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new InputError([{ file, expected: 'a readable file', found: (error as Error).message }]);
  }
  let text: string;
  try {
    // Fatal: invalid bytes would otherwise become U+FFFD inside names and paths, silently.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InputError([{ file, expected: 'UTF-8 text (JSON or YAML)', found: 'bytes that are not valid UTF-8' }]);
  }
  return parseLocated(text, file);
}
