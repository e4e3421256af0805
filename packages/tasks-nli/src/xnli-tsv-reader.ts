import { describeFound, InputError, type DatasetFormat, type InputIssue } from '@xlt/plugin-api';
import { LABEL_SPELLINGS, normalizeLabel } from './labels.js';
import { ISSUE_LIMIT, textLines } from './lines.js';
import type { NliExample } from './nli-example.js';

/** XNLI in XTREME's layout: `premise<TAB>hypothesis<TAB>label`, no header. */
export const xnliTsvFormat: DatasetFormat = {
  id: 'xnli-tsv',
  description: 'XNLI as XTREME writes it: premise<TAB>hypothesis<TAB>label, no header',
  // The name says little (XTREME's dev-en.tsv, users' train.tsv), so the first row decides: 3 fields ending in a label.
  detect(_path: string, head: string): boolean {
    const first = textLines(head.split('\n')[0] ?? '')[0];
    const fields = first?.split('\t') ?? [];
    return fields.length === 3 && normalizeLabel(fields[2]) !== undefined;
  },
};

/**
 * Parses XTREME-style XNLI text. Fields are split on TAB only and kept exactly as written (no quoting, no
 * trimming, U+FEFF and U+200B inside a premise stay). Every bad row is reported with `file:line`.
 */
export function parseXnliTsv(text: string, file: string): NliExample[] {
  const examples: NliExample[] = [];
  const issues: InputIssue[] = [];
  textLines(text).forEach((row, index) => {
    const line = index + 1;
    const fields = row.split('\t');
    if (fields.length !== 3) {
      if (issues.length < ISSUE_LIMIT) {
        issues.push({ file, line, expected: '3 TAB-separated fields (premise, hypothesis, label)', found: `${fields.length} field(s): ${describeFound(row)}` });
      }
      return;
    }
    const label = normalizeLabel(fields[2]);
    if (label === undefined) {
      if (issues.length < ISSUE_LIMIT) issues.push({ file, line, expected: LABEL_SPELLINGS, found: describeFound(fields[2]) });
      return;
    }
    examples.push({ premise: fields[0]!, hypothesis: fields[1]!, label, file, line });
  });
  if (issues.length) throw new InputError(issues, `${file} is not a valid XNLI TSV file (premise<TAB>hypothesis<TAB>label).`);
  // An empty data file is a wrong path or a failed download, never a data set: said, not read as zero examples.
  if (examples.length === 0) throw new InputError([{ file, expected: 'at least one premise<TAB>hypothesis<TAB>label line', found: 'no example lines' }]);
  return examples;
}
