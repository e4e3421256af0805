import { describeFound, InputError, type DatasetFormat, type InputIssue } from '@xlt/plugin-api';
import { isUpos, UPOS_TAGS } from './labels.js';
import type { TaggedSentence } from './tagged-sentence.js';

const WORD_ID = /^[1-9][0-9]*$/;
const RANGE_ID = /^[1-9][0-9]*-[1-9][0-9]*$/;
const EMPTY_NODE_ID = /^[0-9]+\.[1-9][0-9]*$/;

/** CoNLL-U (Universal Dependencies): 10 TAB-separated columns, UPOS in column 4. */
export const conlluFormat: DatasetFormat = {
  id: 'conllu',
  description: 'CoNLL-U (Universal Dependencies): 10 TAB-separated columns, UPOS in column 4',
  detect(path: string, head: string): boolean {
    if (/\.conllu(?:\.gz)?$/i.test(path)) return true;
    for (const line of head.split('\n').slice(0, 50)) {
      if (line === '' || line.startsWith('#')) continue;
      const columns = line.replace(/\r$/, '').split('\t');
      return columns.length === 10 && /^[0-9]+(?:[-.][0-9]+)?$/.test(columns[0]!);
    }
    return false;
  },
};

/**
 * Parses CoNLL-U text into sentences of (word, UPOS). Multi-word token ranges (`3-4`) and empty nodes (`8.1`) are
 * skipped, as in the UD word counts and in every published POS accuracy; comments are kept with their sentence.
 * Checks that each token line has 10 columns, a valid id (words numbered 1, 2, 3, ... in each sentence), a
 * non-empty FORM and one of the 17 UPOS tags; every problem is reported with `file:line` (up to 20 at once).
 */
export function parseConllu(text: string, file: string): TaggedSentence[] {
  const sentences: TaggedSentence[] = [];
  const issues: InputIssue[] = [];
  const problem = (line: number, expected: string, found: string) => {
    if (issues.length < 20) issues.push({ file, line, expected, found });
  };
  let words: string[] = [];
  let tags: string[] = [];
  let comments: string[] = [];
  let id: string | undefined;
  let start = 0;

  const flush = (lineNo: number) => {
    if (start === 0) return;
    if (words.length === 0) {
      problem(start, 'token lines after the comments of a sentence', `a sentence with no words (it ends at line ${lineNo})`);
    } else {
      const sentence: TaggedSentence = { words, tags, file, line: start, comments };
      sentences.push(id === undefined ? sentence : { ...sentence, id });
    }
    words = [];
    tags = [];
    comments = [];
    id = undefined;
    start = 0;
  };

  const lines = text.split('\n');
  // A final newline leaves one empty string after it, which is not a line.
  const count = lines.length > 0 && lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
  for (let i = 0; i < count; i++) {
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const lineNo = i + 1;
    if (i === 0 && line.startsWith('\uFEFF')) line = line.slice(1);
    if (line.trim() === '') {
      flush(lineNo);
      continue;
    }
    if (start === 0) start = lineNo;
    if (line.startsWith('#')) {
      comments.push(line);
      const m = /^#\s*sent_id\s*=\s*(.*)$/.exec(line);
      if (m) id = m[1]!.trim();
      continue;
    }
    const columns = line.split('\t');
    if (columns.length !== 10) {
      problem(lineNo, '10 TAB-separated columns (CoNLL-U)', `${columns.length} column${columns.length === 1 ? '' : 's'}: ${describeFound(line)}`);
      continue;
    }
    const wordId = columns[0]!;
    if (RANGE_ID.test(wordId) || EMPTY_NODE_ID.test(wordId)) continue;
    if (!WORD_ID.test(wordId)) {
      problem(lineNo, 'an id: a word number (7), a range (3-4) or an empty node (8.1)', describeFound(wordId));
      continue;
    }
    if (Number(wordId) !== words.length + 1) {
      problem(lineNo, `word id ${words.length + 1} (ids count 1, 2, 3, ... within a sentence)`, describeFound(wordId));
    }
    const form = columns[1]!;
    if (form === '') problem(lineNo, 'a non-empty FORM (column 2)', 'an empty token');
    const upos = columns[3]!;
    if (!isUpos(upos)) problem(lineNo, `a UPOS tag in column 4 (one of ${UPOS_TAGS.join(' ')})`, describeFound(upos));
    words.push(form);
    tags.push(upos);
  }
  flush(count + 1);
  if (issues.length > 0) throw new InputError(issues, `Cannot read ${file} as CoNLL-U:`);
  if (sentences.length === 0) {
    throw new InputError([{ file, expected: 'at least one CoNLL-U sentence', found: count === 0 ? 'an empty file' : 'no token lines' }]);
  }
  return sentences;
}
