import { describeFound, InputError, type DatasetFormat, type InputIssue } from '@xlt/plugin-api';
import { LABEL_SPELLINGS, normalizeLabel } from './labels.js';
import { ISSUE_LIMIT, textLines } from './lines.js';
import type { NliExample } from './nli-example.js';

/** Header names of each field, first match wins; the official XNLI file names them `sentence1`, `gold_label`. */
const COLUMN_NAMES = {
  premise: ['premise', 'sentence1'],
  hypothesis: ['hypothesis', 'sentence2'],
  label: ['label', 'gold_label'],
  id: ['id', 'pairID'],
} as const;

type Columns = { premise: number; hypothesis: number; label: number; id: number };

function headerColumns(header: string): Columns | undefined {
  const names = header.split('\t');
  const find = (candidates: readonly string[]) => {
    for (const name of candidates) {
      const index = names.indexOf(name);
      if (index >= 0) return index;
    }
    return -1;
  };
  const columns = {
    premise: find(COLUMN_NAMES.premise),
    hypothesis: find(COLUMN_NAMES.hypothesis),
    label: find(COLUMN_NAMES.label),
    id: find(COLUMN_NAMES.id),
  };
  return columns.premise >= 0 && columns.hypothesis >= 0 && columns.label >= 0 ? columns : undefined;
}

/**
 * AmericasNLI: TSV with a header row (`id language premise hypothesis label`; the 2021 release has no `id`).
 * Columns are found by name, so the official 19-column XNLI files (`sentence1`, `sentence2`, `gold_label`) read too.
 */
export const americasNliTsvFormat: DatasetFormat = {
  id: 'americasnli-tsv',
  description: 'AmericasNLI (and official XNLI): TSV with a header naming premise/sentence1, hypothesis/sentence2, label/gold_label',
  detect(_path: string, head: string): boolean {
    const first = textLines(head.split('\n')[0] ?? '')[0];
    return first !== undefined && headerColumns(first) !== undefined;
  },
};

/**
 * Parses a TSV file with a header row. Fields are split on TAB only and kept exactly as written: AmericasNLI has
 * fields with leading and trailing spaces, and premises that are a single space. Every bad row is reported.
 */
export function parseAmericasNliTsv(text: string, file: string): NliExample[] {
  const lines = textLines(text);
  const header = lines[0];
  const columns = header === undefined ? undefined : headerColumns(header);
  if (columns === undefined) {
    throw new InputError([
      { file, line: 1, expected: 'a header row naming the premise, hypothesis and label columns (TAB-separated)', found: describeFound(header) },
    ]);
  }
  const width = header!.split('\t').length;
  const examples: NliExample[] = [];
  const issues: InputIssue[] = [];
  for (let index = 1; index < lines.length && issues.length < ISSUE_LIMIT; index++) {
    const line = index + 1;
    const fields = lines[index]!.split('\t');
    if (fields.length !== width) {
      issues.push({ file, line, expected: `${width} TAB-separated fields, as in the header`, found: `${fields.length}: ${describeFound(lines[index])}` });
      continue;
    }
    const label = normalizeLabel(fields[columns.label]);
    if (label === undefined) {
      issues.push({ file, line, expected: LABEL_SPELLINGS, found: describeFound(fields[columns.label]) });
      continue;
    }
    const example: NliExample = { premise: fields[columns.premise]!, hypothesis: fields[columns.hypothesis]!, label, file, line };
    examples.push(columns.id >= 0 ? { ...example, id: fields[columns.id]! } : example);
  }
  if (issues.length) throw new InputError(issues, `${file} is not a valid NLI TSV file with a header row.`);
  if (examples.length === 0) throw new InputError([{ file, expected: 'at least one example row after the header', found: 'no example rows' }]);
  return examples;
}
