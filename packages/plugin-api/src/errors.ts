/**
 * Errors that xlt reports to a person. Every one names where the problem is (a file, a line, a JSON path or a
 * plugin id), what was expected and what was found, so that the message alone is enough to fix the input.
 */

/** Base class of every error xlt raises on purpose; the CLI prints its message without a stack trace. */
export class XltError extends Error {
  override readonly name: string = 'XltError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** One problem found in an input file, located by line and/or JSON path. */
export interface InputIssue {
  /** File the problem is in, as given by the user. */
  readonly file?: string;
  /** 1-based line number, where known. */
  readonly line?: number;
  /** 1-based column, where known. */
  readonly column?: number;
  /** JSON path such as `grid.learningRates[1]`, where the input is structured. */
  readonly path?: string;
  /** What the reader expected at this place. */
  readonly expected: string;
  /** What it found instead (shortened). */
  readonly found: string;
}

/** Formats an issue as `file:line:column at path: expected X, found Y`. */
export function formatIssue(issue: InputIssue): string {
  let where = issue.file ?? '';
  if (issue.line !== undefined) where += `${where ? ':' : 'line '}${issue.line}`;
  if (issue.line !== undefined && issue.column !== undefined) where += `:${issue.column}`;
  if (issue.path !== undefined) where += `${where ? ' at ' : ''}${issue.path === '' ? '(root)' : issue.path}`;
  return `${where ? `${where}: ` : ''}expected ${issue.expected}, found ${issue.found}`;
}

/** Bad input: a malformed data file, config or checkpoint. Holds every issue found, not only the first. */
export class InputError extends XltError {
  override readonly name: string = 'InputError';
  constructor(
    readonly issues: readonly InputIssue[],
    summary?: string,
  ) {
    super(
      (summary ? `${summary}\n` : '') +
        issues.map((i) => (issues.length > 1 ? `  - ${formatIssue(i)}` : formatIssue(i))).join('\n'),
    );
  }
}

/** Shortens a value for an error message: strings are quoted, long ones cut. */
export function describeFound(value: unknown, max = 60): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const s = value.length > max ? `${value.slice(0, max)}…` : value;
    return JSON.stringify(s);
  }
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
