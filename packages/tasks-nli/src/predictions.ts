import { describeFound, InputError, type InputIssue } from '@xlt/plugin-api';
import { LABEL_SPELLINGS, normalizeLabel, type NliLabel } from './labels.js';
import { ISSUE_LIMIT, textLines } from './lines.js';

/** One label per line in the order of the gold examples, newline-terminated. */
export function formatNliPredictions(predictions: readonly string[]): string {
  return predictions.map((p) => `${p}\n`).join('');
}

/**
 * Reads a predictions file: one label per line, gold order, any spelling {@link normalizeLabel} accepts (so the
 * numeric 0/1/2 of HF's `run_xnli.py` output works). The line count must equal the number of gold examples.
 */
export function parseNliPredictions(text: string, file: string, expectedCount: number): NliLabel[] {
  const lines = textLines(text);
  if (lines.length !== expectedCount) {
    throw new InputError([{ file, expected: `${expectedCount} lines, one prediction per gold example`, found: `${lines.length} lines` }]);
  }
  const predictions: NliLabel[] = [];
  const issues: InputIssue[] = [];
  lines.forEach((raw, index) => {
    const label = normalizeLabel(raw);
    if (label !== undefined) predictions.push(label);
    else if (issues.length < ISSUE_LIMIT) issues.push({ file, line: index + 1, expected: LABEL_SPELLINGS, found: describeFound(raw) });
  });
  if (issues.length) throw new InputError(issues, `${file} holds predictions that are not NLI labels.`);
  return predictions;
}
