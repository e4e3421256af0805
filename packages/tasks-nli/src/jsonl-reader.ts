import { describeFound, InputError, type DatasetFormat, type InputIssue } from '@xlt/plugin-api';
import { LABEL_SPELLINGS, normalizeLabel } from './labels.js';
import { ISSUE_LIMIT, textLines } from './lines.js';
import type { NliExample } from './nli-example.js';

/** JSON Lines: one object a line, `premise`/`hypothesis`/`label` or SNLI/MultiNLI's `sentence1`/`sentence2`/`gold_label`. */
export const nliJsonlFormat: DatasetFormat = {
  id: 'nli-jsonl',
  description: 'JSON Lines with premise, hypothesis, label (or sentence1, sentence2, gold_label) per line',
  detect(path: string, head: string): boolean {
    if (/\.jsonl(?:\.gz)?$/i.test(path)) return true;
    return /^\uFEFF?\s*\{\s*"/.test(head);
  },
};

/** The first of `keys` that the object has (not undefined), with its name. */
function pick(record: Record<string, unknown>, keys: readonly string[]): [string, unknown] {
  for (const key of keys) if (record[key] !== undefined) return [key, record[key]];
  return [keys.join(' or '), undefined];
}

/** Parses NLI JSON Lines; blank lines are allowed, every other line must be an object with the three fields. */
export function parseNliJsonl(text: string, file: string): NliExample[] {
  const examples: NliExample[] = [];
  const issues: InputIssue[] = [];
  const problem = (issue: InputIssue) => {
    if (issues.length < ISSUE_LIMIT) issues.push(issue);
  };
  textLines(text).forEach((row, index) => {
    const line = index + 1;
    if (row.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(row);
    } catch (error) {
      problem({ file, line, expected: 'a JSON object', found: `invalid JSON (${(error as Error).message})` });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problem({ file, line, expected: 'a JSON object', found: describeFound(value) });
      return;
    }
    const record = value as Record<string, unknown>;
    const [premiseKey, premise] = pick(record, ['premise', 'sentence1']);
    const [hypothesisKey, hypothesis] = pick(record, ['hypothesis', 'sentence2']);
    const [labelKey, rawLabel] = pick(record, ['label', 'gold_label']);
    if (typeof premise !== 'string') return problem({ file, line, path: premiseKey, expected: 'a string', found: describeFound(premise) });
    if (typeof hypothesis !== 'string') return problem({ file, line, path: hypothesisKey, expected: 'a string', found: describeFound(hypothesis) });
    const label = normalizeLabel(rawLabel);
    if (label === undefined) return problem({ file, line, path: labelKey, expected: LABEL_SPELLINGS, found: describeFound(rawLabel) });
    const [, id] = pick(record, ['id', 'pairID']);
    const example: NliExample = { premise, hypothesis, label, file, line };
    examples.push(typeof id === 'string' || typeof id === 'number' ? { ...example, id: String(id) } : example);
  });
  if (issues.length) throw new InputError(issues, `${file} is not valid NLI JSON Lines.`);
  if (examples.length === 0) throw new InputError([{ file, expected: 'at least one JSON object line', found: 'no example lines' }]);
  return examples;
}
