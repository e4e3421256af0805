import { describeFound, InputError, type InputIssue } from '@xlt/plugin-api';
import { parseJsonText } from './json-text.js';
import type { QaExample } from './qa-example.js';

/** At most this many ids are listed in one message. */
const MAX_LISTED = 20;

/** Predictions as the official SQuAD predictions JSON, `{ "<question id>": "<answer text>" }`, in example order. */
export function formatSquadPredictions(predictions: readonly string[], examples: readonly QaExample[]): string {
  if (predictions.length !== examples.length) {
    throw new InputError([{ expected: `${examples.length} predictions (one per question)`, found: String(predictions.length) }]);
  }
  const out: Record<string, string> = {};
  examples.forEach((e, i) => {
    // the file is keyed by id: a second question with the same id would silently overwrite the first prediction
    if (Object.hasOwn(out, e.id)) throw new InputError([{ path: `questions[${i}].id`, expected: 'question ids unique across the predicted examples', found: JSON.stringify(e.id) }]);
    out[e.id] = predictions[i]!;
  });
  return `${JSON.stringify(out, null, 2)}\n`;
}

function listIds(ids: readonly string[]): string {
  const shown = ids.slice(0, MAX_LISTED).map((id) => JSON.stringify(id)).join(', ');
  return ids.length > MAX_LISTED ? `${shown} and ${ids.length - MAX_LISTED} more` : shown;
}

/**
 * Parses a SQuAD predictions JSON (ours, or one from `run_squad.py` / `run_qa.py`) into one answer per example.
 * Errors, all reported together: text that is not JSON (with line and column), a root that is not an object, a
 * value that is not a string (by its JSON path), question ids of the data set with no prediction (listed; the
 * official script would silently score them 0) and ids the data set does not have (listed: predictions for
 * another file).
 */
export function parseSquadPredictions(text: string, file: string, examples: readonly QaExample[]): string[] {
  const root = parseJsonText(text, file);
  if (typeof root !== 'object' || root === null || Array.isArray(root)) {
    throw new InputError([{ file, path: '', expected: 'a JSON object mapping question ids to answer texts', found: describeFound(root) }]);
  }
  const record = root as Record<string, unknown>;
  const issues: InputIssue[] = [];
  const known = new Set(examples.map((e) => e.id));
  for (const [id, value] of Object.entries(record)) {
    if (known.has(id) && typeof value !== 'string') issues.push({ file, path: `[${JSON.stringify(id)}]`, expected: 'an answer text (a string)', found: describeFound(value) });
  }
  const missing = examples.filter((e) => !Object.hasOwn(record, e.id)).map((e) => e.id);
  if (missing.length) issues.push({ file, expected: `a prediction for every question (${missing.length} of ${examples.length} missing)`, found: `no entry for ${listIds(missing)}` });
  const extra = Object.keys(record).filter((id) => !known.has(id));
  if (extra.length) issues.push({ file, expected: 'only ids of questions in the data set', found: `${extra.length} unknown id${extra.length === 1 ? '' : 's'}: ${listIds(extra)}` });
  if (issues.length) throw new InputError(issues, `${file} does not hold predictions for this data set:`);
  return examples.map((e) => record[e.id] as string);
}
