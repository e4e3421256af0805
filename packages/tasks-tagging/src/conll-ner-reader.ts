import { describeFound, InputError, type DatasetFormat, type InputIssue } from '@xlt/plugin-api';
import { isNerTag } from './labels.js';
import type { TaggedSentence } from './tagged-sentence.js';

/** How a NER reader treats WikiANN's `en:`-style language prefixes on tokens. */
export type LanguagePrefixMode = 'auto' | 'strip' | 'keep';

/** Options of {@link parseConllNer}. */
export interface ConllNerOptions {
  /** Column separator: TAB (WikiANN) or a single space (MasakhaNER, CoNLL-2003). Default: TAB when line 1 has one. */
  readonly separator?: '\t' | ' ';
  /**
   * `auto` (default): strip the prefix only when every token of the file starts with the same `xx:` (2-3 lower-case
   * letters and a colon), as in the WikiANN/Rahimi files; `strip`: require and strip it; `keep`: never strip.
   */
  readonly languagePrefix?: LanguagePrefixMode;
}

const PREFIX = /^[a-z]{2,3}:/;

function firstDataLine(head: string): string | undefined {
  for (const raw of head.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.startsWith('-DOCSTART-')) continue;
    return line;
  }
  return undefined;
}

function looksLikeNer(head: string, separator: '\t' | ' '): boolean {
  const line = firstDataLine(head);
  if (line === undefined) return false;
  if (separator === ' ' && line.includes('\t')) return false;
  if (separator === '\t' && !line.includes('\t')) return false;
  const fields = line.split(separator);
  return fields.length >= 2 && isNerTag(fields[fields.length - 1]!);
}

/** WikiANN as distributed by Rahimi et al.: `en:token<TAB>tag`, blank line between sentences. */
export const wikiannFormat: DatasetFormat = {
  id: 'wikiann',
  description: 'CoNLL-style NER, TAB-separated (token<TAB>tag), optional `xx:` language prefixes (WikiANN)',
  detect: (_path, head) => looksLikeNer(head, '\t'),
};

/** MasakhaNER / CoNLL-2003 layout: `token tag` (or `token POS chunk tag`) separated by spaces. */
export const conllNerFormat: DatasetFormat = {
  id: 'conll',
  description: 'CoNLL-style NER, space-separated (token tag; last column is the tag), -DOCSTART- lines ignored',
  detect: (_path, head) => looksLikeNer(head, ' '),
};

/**
 * Parses CoNLL-style NER text: one `token<sep>...<sep>tag` line per token (the first column is the token, the
 * last the IOB tag), blank lines between sentences, `-DOCSTART-` lines ignored. Every token line must have the
 * column count of the first one, a non-empty token and a tag `O`, `B-X` or `I-X`; problems are reported with
 * `file:line` (up to 20 at once). I- tags after O are kept as they are: how they count is the metric's business.
 */
export function parseConllNer(text: string, file: string, options: ConllNerOptions = {}): TaggedSentence[] {
  const issues: InputIssue[] = [];
  const problem = (line: number, expected: string, found: string) => {
    if (issues.length < 20) issues.push({ file, line, expected, found });
  };
  const lines = text.split('\n');
  const count = lines.length > 0 && lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
  const separator = options.separator ?? ((firstDataLine(text.slice(0, 4096)) ?? '').includes('\t') ? '\t' : ' ');
  const sepName = separator === '\t' ? 'TAB' : 'space';

  const sentences: { words: string[]; tags: string[]; wordLines: number[]; line: number }[] = [];
  let current: (typeof sentences)[number] | undefined;
  let columns = 0;
  for (let i = 0; i < count; i++) {
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (i === 0 && line.startsWith('\uFEFF')) line = line.slice(1);
    const lineNo = i + 1;
    if (line.trim() === '') {
      current = undefined;
      continue;
    }
    if (line.startsWith('-DOCSTART-')) {
      // A document marker is a sentence of its own in CoNLL-2003; it separates sentences too.
      current = undefined;
      continue;
    }
    const fields = line.split(separator);
    if (columns === 0) {
      columns = fields.length;
      if (columns < 2) {
        problem(lineNo, `a token and a tag separated by a ${sepName}`, `1 column: ${describeFound(line)}`);
        columns = 2;
      }
    } else if (fields.length !== columns) {
      problem(lineNo, `${columns} ${sepName}-separated columns (as on the first token line)`, `${fields.length}: ${describeFound(line)}`);
      continue;
    }
    const word = fields[0]!;
    const tag = fields[fields.length - 1]!;
    if (word === '') problem(lineNo, 'a non-empty token in column 1', `an empty token: ${describeFound(line)}`);
    if (!isNerTag(tag)) problem(lineNo, 'a tag O, B-TYPE or I-TYPE in the last column', describeFound(tag));
    if (current === undefined) {
      current = { words: [], tags: [], wordLines: [], line: lineNo };
      sentences.push(current);
    }
    current.words.push(word);
    current.tags.push(tag);
    current.wordLines.push(lineNo);
  }
  if (issues.length > 0) throw new InputError(issues, `Cannot read ${file} as CoNLL-style NER:`);
  if (sentences.length === 0) {
    throw new InputError([{ file, expected: 'at least one sentence of token/tag lines', found: count === 0 ? 'an empty file' : 'no token lines' }]);
  }

  const strip = decidePrefix(sentences, file, options.languagePrefix ?? 'auto');
  const out: TaggedSentence[] = [];
  for (const s of sentences) {
    let words = s.words;
    if (strip > 0) {
      words = s.words.map((w) => w.slice(strip));
      const empty = words.indexOf('');
      if (empty >= 0) problem(s.wordLines[empty]!, 'a token after the language prefix', describeFound(s.words[empty]));
    }
    out.push({ words, tags: s.tags, file, line: s.line });
  }
  if (issues.length > 0) throw new InputError(issues, `Cannot read ${file} as CoNLL-style NER:`);
  return out;
}

/** The length of the language prefix to strip from every token, 0 for none. */
function decidePrefix(
  sentences: readonly { words: readonly string[]; wordLines: readonly number[] }[],
  file: string,
  mode: LanguagePrefixMode,
): number {
  if (mode === 'keep') return 0;
  const first = sentences[0]!;
  const match = PREFIX.exec(first.words[0]!);
  if (!match) {
    if (mode === 'strip') {
      throw new InputError([{ file, line: first.wordLines[0]!, expected: 'a token with a language prefix such as `en:`', found: describeFound(first.words[0]) }]);
    }
    return 0;
  }
  const prefix = match[0];
  for (const s of sentences) {
    for (let k = 0; k < s.words.length; k++) {
      if (!s.words[k]!.startsWith(prefix)) {
        if (mode === 'strip') {
          throw new InputError([{ file, line: s.wordLines[k]!, expected: `a token with the language prefix \`${prefix}\` (as on the first token line)`, found: describeFound(s.words[k]) }]);
        }
        return 0;
      }
    }
  }
  return prefix.length;
}
