import { InputError } from '@xlt/plugin-api';

/** 1-based line and column (in UTF-16 code units) of a position in `text`. */
export function lineColumnAt(text: string, position: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < position; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: position - lineStart + 1 };
}

/**
 * Parses JSON text, reporting a syntax error with the file, line and column and what was expected there.
 * A byte-order mark at the very start of the file is skipped (JSON.parse rejects it); U+FEFF inside strings is
 * data and stays, so answer offsets into contexts are unaffected.
 */
export function parseJsonText(text: string, file: string): unknown {
  const skip = text.startsWith('\uFEFF') ? 1 : 0;
  const body = skip ? text.slice(skip) : text;
  try {
    return JSON.parse(body);
  } catch (error) {
    // V8's messages do not always carry a position, so locate the error with a scanner of our own.
    const problem = findJsonSyntaxError(body) ?? { position: 0, expected: 'valid JSON', found: (error as Error).message };
    const { line, column } = lineColumnAt(text, problem.position + skip);
    throw new InputError([{ file, line, column, expected: problem.expected, found: problem.found }], `Cannot parse ${file} as JSON:`);
  }
}

/** A JSON syntax problem: where it is (index into the text) and what was expected there. */
export interface JsonSyntaxProblem {
  readonly position: number;
  readonly expected: string;
  readonly found: string;
}

/** Scans `text` as JSON (RFC 8259) and returns the first syntax problem, or `undefined` when the text is valid. */
export function findJsonSyntaxError(text: string): JsonSyntaxProblem | undefined {
  return scanJson(text);
}

/**
 * Line and column (1-based) of the value at each JSON path (`data[0].paragraphs[2].context`) in `text`, for error
 * messages. Paths that do not exist are left out; a leading byte-order mark counts as one column.
 */
export function locateJsonPaths(text: string, paths: readonly (readonly PropertyKey[])[]): Map<string, { line: number; column: number }> {
  const wanted = new Set(paths.map(pathKey));
  const found = new Map<string, { line: number; column: number }>();
  const skip = text.startsWith('\uFEFF') ? 1 : 0;
  const body = skip ? text.slice(skip) : text;
  if (wanted.size === 0) return found;
  scanJson(body, (path, position) => {
    const key = pathKey(path);
    if (wanted.has(key) && !found.has(key)) found.set(key, lineColumnAt(text, position + skip));
  });
  return found;
}

/** A canonical key of a JSON path, for lookups. */
export function pathKey(path: readonly PropertyKey[]): string {
  return path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${JSON.stringify(String(k))}`)).join('');
}

function scanJson(text: string, onValue?: (path: readonly PropertyKey[], position: number) => void): JsonSyntaxProblem | undefined {
  const path: PropertyKey[] = [];
  let i = 0;
  const describe = (at: number) => (at >= text.length ? 'the end of the text' : JSON.stringify(text.slice(at, at + 12)));
  class Stop extends Error {
    constructor(readonly problem: JsonSyntaxProblem) {
      super(problem.expected);
    }
  }
  const fail = (expected: string): never => {
    throw new Stop({ position: i, expected, found: describe(i) });
  };
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail('a JSON value');
  };
  const string = () => {
    const start = i;
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail('a closing \'"\'');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return text.slice(start, i);
      }
      if (c < 0x20) fail('no raw control character inside a string (escape it)');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i += 2;
            fail('four hex digits after \\u');
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else {
          i++;
          fail('a valid escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)');
        }
      } else i++;
    }
  };
  const number = () => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '' || m[0] === '-') fail('a JSON value');
    i += m![0].length;
  };
  /** The members of an object or array from its opening bracket to its `close`, each read by `member`. */
  const members = (close: '}' | ']', what: string, member: (index: number) => void) => {
    i++;
    ws();
    if (text[i] === close) {
      i++;
      return;
    }
    for (let index = 0; ; index++) {
      member(index);
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === close) {
        i++;
        return;
      }
      fail(`',' or '${close}' after ${what}`);
    }
  };
  const value = (): void => {
    ws();
    onValue?.(path, i);
    const c = text[i];
    if (c === '{') {
      members('}', 'a property value', () => {
        ws();
        if (text[i] !== '"') fail('a property name in double quotes');
        const raw = string()!;
        ws();
        if (text[i] !== ':') fail("':' after the property name");
        i++;
        path.push(onValue ? (JSON.parse(raw) as string) : '');
        value();
        path.pop();
      });
    } else if (c === '[') {
      members(']', 'an array element', (index) => {
        path.push(index);
        value();
        path.pop();
      });
    } else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) number();
    else fail('a JSON value');
  };
  try {
    value();
    ws();
    if (i < text.length) fail('the end of the text after the top-level value');
    return undefined;
  } catch (error) {
    if (error instanceof Stop) return error.problem;
    throw error;
  }
}
