import { describeFound, InputError, XltError, type InputIssue } from '@xlt/plugin-api';
import type { TaggedSentence, TagPrediction } from './tagged-sentence.js';

/** Throws unless there is one prediction per example with one tag per word. */
export function checkPredictionShape(examples: readonly TaggedSentence[], predictions: readonly TagPrediction[]): void {
  if (predictions.length !== examples.length) {
    throw new XltError(`Expected one prediction per sentence (${examples.length}), found ${predictions.length}`);
  }
  examples.forEach((e, k) => {
    const n = predictions[k]!.tags.length;
    if (n !== e.words.length) {
      throw new XltError(`Prediction ${k + 1} has ${n} tags, the gold sentence at ${e.file}:${e.line} has ${e.words.length} words`);
    }
  });
}

/**
 * The predictions file `xlt score --pred` reads: one tag per word per line, a blank line after each sentence,
 * sentences in the order of the gold file.
 */
export function formatTagPredictions(predictions: readonly TagPrediction[], examples: readonly TaggedSentence[]): string {
  checkPredictionShape(examples, predictions);
  let out = '';
  for (const p of predictions) out += `${p.tags.join('\n')}\n\n`;
  return out;
}

/**
 * Parses a predictions file: sentences separated by blank lines, one line per word whose last whitespace-separated
 * field is the tag (so `word<TAB>tag` CoNLL output of other tools reads too). Checks the sentence count, each
 * sentence's word count against the gold and each tag with `isTag`, naming the line; reports up to 20 problems.
 */
export function parseTagPredictions(
  text: string,
  file: string,
  examples: readonly TaggedSentence[],
  isTag: (tag: string) => boolean,
  tagDescription: string,
): TagPrediction[] {
  const issues: InputIssue[] = [];
  const problem = (issue: Omit<InputIssue, 'file'>) => {
    if (issues.length < 20) issues.push({ file, ...issue });
  };
  const sentences: { tags: string[]; line: number }[] = [];
  let current: { tags: string[]; line: number } | undefined;
  const lines = text.split('\n');
  const count = lines.length > 0 && lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
  for (let i = 0; i < count; i++) {
    const line = lines[i]!.replace(/\r$/, '').trim();
    if (line === '') {
      current = undefined;
      continue;
    }
    const fields = line.split(/\s+/);
    const tag = fields[fields.length - 1]!;
    if (!isTag(tag)) problem({ line: i + 1, expected: tagDescription, found: describeFound(tag) });
    if (!current) sentences.push((current = { tags: [], line: i + 1 }));
    current.tags.push(tag);
  }
  const n = Math.min(sentences.length, examples.length);
  for (let k = 0; k < n; k++) {
    const s = sentences[k]!;
    const gold = examples[k]!;
    if (s.tags.length !== gold.words.length) {
      problem({
        line: s.line,
        expected: `${gold.words.length} tags for sentence ${k + 1} (the gold sentence at ${gold.file}:${gold.line})`,
        found: `${s.tags.length}, up to line ${s.line + s.tags.length - 1}`,
      });
    }
  }
  if (sentences.length !== examples.length) {
    const extra = sentences[examples.length];
    problem({
      ...(extra ? { line: extra.line } : {}),
      expected: `${examples.length} sentences, one per gold sentence, separated by blank lines`,
      found: `${sentences.length}${extra ? ' (the first extra one starts here)' : ''}`,
    });
  }
  if (issues.length > 0) throw new InputError(issues, `Cannot read predictions from ${file}:`);
  return sentences.map((s) => ({ tags: s.tags }));
}
