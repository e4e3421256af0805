import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describeFound, InputError, readText, type DatasetFormat, type InputIssue } from '@xlt/plugin-api';
import { LABEL_SPELLINGS, normalizeLabel } from './labels.js';
import { ISSUE_LIMIT, textLines } from './lines.js';
import type { NliExample } from './nli-example.js';

const SNLI_NAME = /^(s1|s2|labels)\.([^/\\]+?)(\.gz)?$/;

/** SNLI as InferSent/SentEval ship it: `s1.<split>`, `s2.<split>`, `labels.<split>`, line-aligned. */
export const snliFilesFormat: DatasetFormat = {
  id: 'snli-lines',
  description: 'SNLI in three line-aligned files s1.<split> (premises), s2.<split> (hypotheses), labels.<split>, optionally .gz',
  detect(path: string): boolean {
    return SNLI_NAME.test(basename(path));
  },
};

/** The three files of one split, found from the path of any one of them. */
export interface SnliFiles {
  readonly premises: string;
  readonly hypotheses: string;
  readonly labels: string;
}

/**
 * The sibling files of `path` (any of `s1.<split>`, `s2.<split>`, `labels.<split>`, each maybe `.gz`). A sibling
 * with the same compression as `path` is preferred, then the other; a missing one is an {@link InputError}.
 */
export function snliSiblings(path: string): SnliFiles {
  const match = SNLI_NAME.exec(basename(path));
  if (!match) {
    throw new InputError([{ file: path, expected: 'a file named s1.<split>, s2.<split> or labels.<split> (optionally .gz)', found: describeFound(basename(path)) }]);
  }
  const split = match[2]!;
  const gz = match[3] !== undefined;
  const dir = dirname(path);
  const find = (role: string): string => {
    const candidates = (gz ? ['.gz', ''] : ['', '.gz']).map((ext) => join(dir, `${role}.${split}${ext}`));
    const found = candidates.find((c) => existsSync(c));
    if (found === undefined) {
      throw new InputError([{ file: path, expected: `its sibling ${candidates.join(' or ')} (SNLI comes as s1, s2 and labels files)`, found: 'no such file' }]);
    }
    return found;
  };
  return { premises: find('s1'), hypotheses: find('s2'), labels: find('labels') };
}

/**
 * Reads one SNLI split from its three files. Sentences are kept as written (pre-tokenized, with the trailing space
 * InferSent's tokenizer leaves); the line counts must agree, and every label must be an NLI label.
 * Examples point at the labels file, where a bad label is reported.
 */
export async function readSnliFiles(path: string): Promise<NliExample[]> {
  const files = snliSiblings(path);
  const [premises, hypotheses, labels] = await Promise.all([files.premises, files.hypotheses, files.labels].map(async (f) => textLines(await readText(f))));
  if (premises!.length !== hypotheses!.length || premises!.length !== labels!.length) {
    throw new InputError(
      [{ file: files.labels, expected: `as many lines as ${files.premises} (${premises!.length}) and ${files.hypotheses} (${hypotheses!.length})`, found: `${labels!.length} lines` }],
      'The three SNLI files of a split must be line-aligned.',
    );
  }
  const examples: NliExample[] = [];
  const issues: InputIssue[] = [];
  labels!.forEach((raw, index) => {
    const label = normalizeLabel(raw);
    if (label === undefined) {
      if (issues.length < ISSUE_LIMIT) issues.push({ file: files.labels, line: index + 1, expected: LABEL_SPELLINGS, found: describeFound(raw) });
      return;
    }
    examples.push({ premise: premises![index]!, hypothesis: hypotheses![index]!, label, file: files.labels, line: index + 1 });
  });
  if (issues.length) throw new InputError(issues, `${files.labels} has labels that are not NLI labels.`);
  return examples;
}
