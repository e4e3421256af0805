import type { z } from 'zod';
import { describeFound, type InputIssue } from '../errors.js';

/** Formats a JSON path the way people write it: `grid.learningRate[1]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Turns zod issues (parsed with `reportInput: true`) into located {@link InputIssue}s. */
export function zodIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[],
  locate: (path: readonly PropertyKey[]) => { line?: number; column?: number },
  file?: string,
): InputIssue[] {
  const out: InputIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    const input = (issue as { input?: unknown }).input;
    let expected: string;
    let found = describeFound(input);
    switch (issue.code) {
      case 'invalid_type':
        expected = issue.expected;
        if (input === undefined) found = 'nothing (the field is missing)';
        break;
      case 'invalid_value':
        expected = `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
        break;
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          out.push({ file, ...locate([...path, key]), path: formatPath([...path, key]), expected: 'no such field (unknown key)', found: JSON.stringify(key) });
        }
        continue;
      case 'too_small':
        expected = `${issue.origin === 'array' ? 'at least' : issue.inclusive ? '≥' : '>'} ${String(issue.minimum)}${issue.origin === 'array' ? ' items' : ''}`;
        break;
      case 'too_big':
        expected = `${issue.origin === 'array' ? 'at most' : issue.inclusive ? '≤' : '<'} ${String(issue.maximum)}${issue.origin === 'array' ? ' items' : ''}`;
        break;
      case 'invalid_union':
        expected = issue.message && !issue.message.startsWith('Invalid input') ? issue.message : 'one of the allowed forms';
        break;
      default:
        expected = issue.message;
    }
    out.push({ file, ...locate(path), path: formatPath(path), expected, found });
  }
  return out;
}
