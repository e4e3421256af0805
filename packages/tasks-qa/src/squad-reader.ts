import { basename } from 'node:path';
import { describeFound, formatPath, InputError, readText, type DatasetFormat, type InputIssue } from '@xlt/plugin-api';
import { locateJsonPaths, parseJsonText, pathKey } from './json-text.js';
import type { QaAnswer, QaBenchmark, QaExample } from './qa-example.js';

/** Options of {@link parseSquadJson}. */
export interface SquadReadOptions {
  /** Language of the contexts; defaults to the context language in an MLQA file name, else unknown. */
  readonly language?: string;
  /**
   * Accept answers whose text is empty. Off by default: an empty gold answer makes EM and F1 meaningless (every
   * prediction scores F1 0) and gives training no span, so such files (e.g. copies with the answers blanked out) are
   * rejected unless asked for.
   */
  readonly allowEmptyAnswers?: boolean;
}

/** At most this many problems are listed; the summary says how many there were in all. */
const MAX_ISSUES = 50;

const MLQA_FILE_NAME = /context-([a-z]{2,3})-question-([a-z]{2,3})/;

/** The `squad-json` format: SQuAD v1.1 JSON, as used by SQuAD, XQuAD, MLQA and TyDiQA-GoldP. */
export const squadJsonFormat: DatasetFormat = {
  id: 'squad-json',
  description: 'SQuAD v1.1 JSON ({"version", "data": [{"title"?, "paragraphs": [{"context", "qas": [...]}]}]})',
  detect(path: string, head: string): boolean {
    const start = head.replace(/^\uFEFF/, '').trimStart();
    return (/\.json(\.gz)?$/i.test(path) || start.startsWith('{')) && /"data"\s*:/.test(head) && start.startsWith('{');
  },
};

/** Reads a SQuAD v1.1 JSON file (gzip-compressed or not); see {@link parseSquadJson}. */
export async function readSquadJson(file: string, options: SquadReadOptions = {}): Promise<QaExample[]> {
  return parseSquadJson(await readText(file), file, options);
}

/**
 * Parses SQuAD v1.1 JSON text into one {@link QaExample} per question, in file order. Every problem is reported at
 * once as an {@link InputError} naming the file and the JSON path (with its line where the text can be located):
 * a missing or mistyped field, a duplicate question id, a question without answers (SQuAD v2 unanswerable questions
 * are not v1.1), an answer whose `answer_start` lies outside the context, and an answer whose text differs from the
 * context at `answer_start`. The last is an error, not a warning: every official file (SQuAD, XQuAD, MLQA,
 * TyDiQA-GoldP) satisfies it, so a mismatch means a broken file or wrong offsets (e.g. code points against UTF-16).
 */
export function parseSquadJson(text: string, file: string, options: SquadReadOptions = {}): QaExample[] {
  const root = parseJsonText(text, file);
  const issues: { path: PropertyKey[]; expected: string; found: string }[] = [];
  let total = 0;
  const issue = (path: PropertyKey[], expected: string, found: string) => {
    total++;
    if (issues.length < MAX_ISSUES) issues.push({ path, expected, found });
  };
  const missing = (value: unknown) => (value === undefined ? 'nothing (the field is missing)' : describeFound(value));
  const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

  const examples: QaExample[] = [];
  if (!isRecord(root)) {
    throw new InputError([{ file, path: '', expected: 'a JSON object with "version" and "data"', found: describeFound(root) }]);
  }
  const version = root['version'];
  if (version !== undefined && typeof version !== 'string' && typeof version !== 'number') {
    issue(['version'], 'a string or a number', describeFound(version));
  }
  const nameMatch = MLQA_FILE_NAME.exec(basename(file));
  const benchmark: QaBenchmark =
    typeof version === 'number' || nameMatch ? 'mlqa' : typeof version === 'string' && version.startsWith('TyDiQA') ? 'tydiqa' : 'squad';
  const language = options.language ?? (benchmark === 'mlqa' ? nameMatch?.[1] : undefined);

  const seen = new Map<string, string>();
  let paragraphIndex = -1;
  const data = root['data'];
  if (!Array.isArray(data)) issue(['data'], 'an array of articles', missing(data));
  else {
    data.forEach((article, a) => {
      const ap: PropertyKey[] = ['data', a];
      if (!isRecord(article)) return issue(ap, 'an article object', describeFound(article));
      const title = article['title'];
      if (title !== undefined && typeof title !== 'string') issue([...ap, 'title'], 'a string (or no title)', describeFound(title));
      const paragraphs = article['paragraphs'];
      if (!Array.isArray(paragraphs)) return issue([...ap, 'paragraphs'], 'an array of paragraphs', missing(paragraphs));
      paragraphs.forEach((paragraph, p) => {
        const pp: PropertyKey[] = [...ap, 'paragraphs', p];
        const paragraphNumber = ++paragraphIndex;
        if (!isRecord(paragraph)) return issue(pp, 'a paragraph object', describeFound(paragraph));
        const context = paragraph['context'];
        const contextOk = typeof context === 'string';
        if (!contextOk) issue([...pp, 'context'], 'a string', missing(context));
        const qas = paragraph['qas'];
        if (!Array.isArray(qas)) return issue([...pp, 'qas'], 'an array of questions', missing(qas));
        qas.forEach((qa, q) => {
          const qp: PropertyKey[] = [...pp, 'qas', q];
          if (!isRecord(qa)) return issue(qp, 'a question object', describeFound(qa));
          const id = qa['id'];
          const question = qa['question'];
          const answers = qa['answers'];
          let ok = contextOk;
          if (typeof id !== 'string' || id === '') {
            issue([...qp, 'id'], 'a non-empty string', missing(id));
            ok = false;
          } else if (seen.has(id)) {
            issue([...qp, 'id'], `an id not used before (question ids key the predictions)`, `${JSON.stringify(id)}, already at ${seen.get(id)}`);
            ok = false;
          } else seen.set(id, formatPath(qp));
          if (typeof question !== 'string') {
            issue([...qp, 'question'], 'a string', missing(question));
            ok = false;
          }
          if (qa['is_impossible'] === true) {
            issue([...qp, 'is_impossible'], 'answerable questions only (SQuAD v1.1; v2 unanswerable questions are not supported)', 'true');
            ok = false;
          }
          if (!Array.isArray(answers) || answers.length === 0) {
            issue([...qp, 'answers'], 'a non-empty array of answers', Array.isArray(answers) ? 'an empty array' : missing(answers));
            return;
          }
          const parsed: QaAnswer[] = [];
          answers.forEach((answer, n) => {
            const np: PropertyKey[] = [...qp, 'answers', n];
            if (!isRecord(answer)) {
              ok = false;
              return issue(np, 'an answer object with "text" and "answer_start"', describeFound(answer));
            }
            const answerText = answer['text'];
            const start = answer['answer_start'];
            if (typeof answerText !== 'string') {
              ok = false;
              issue([...np, 'text'], 'a string', missing(answerText));
            }
            if (typeof start !== 'number' || !Number.isInteger(start) || start < 0) {
              ok = false;
              return issue([...np, 'answer_start'], 'a non-negative integer', missing(start));
            }
            if (typeof answerText !== 'string' || !contextOk) return;
            if (answerText === '' && !options.allowEmptyAnswers) {
              ok = false;
              return issue([...np, 'text'], 'a non-empty answer text (set the qa option allowEmptyAnswers to read blanked answers anyway)', '""');
            }
            const ctx = context as string;
            if (start + answerText.length > ctx.length) {
              ok = false;
              return issue(
                [...np, 'answer_start'],
                `an offset with the answer inside the context (context length ${ctx.length}, answer length ${answerText.length})`,
                String(start),
              );
            }
            const at = ctx.slice(start, start + answerText.length);
            if (at !== answerText) {
              ok = false;
              return issue([...np, 'answer_start'], `the answer text ${describeFound(answerText)} at offset ${start} of the context`, describeFound(at));
            }
            parsed.push({ text: answerText, answerStart: start });
          });
          if (!ok) return;
          examples.push({
            id: id as string,
            question: question as string,
            context: context as string,
            answers: parsed,
            ...(typeof title === 'string' ? { title } : {}),
            benchmark,
            paragraph: paragraphNumber,
            ...(language !== undefined ? { language } : {}),
          });
        });
      });
    });
  }
  if (total > 0) throw new InputError(locateIssues(text, file, issues), summary(file, total));
  if (examples.length === 0) throw new InputError([{ file, path: 'data', expected: 'at least one question (data[].paragraphs[].qas[])', found: 'no questions' }]);
  return examples;
}

function summary(file: string, total: number): string {
  const more = total > MAX_ISSUES ? ` (the first ${MAX_ISSUES} are listed)` : '';
  return `${file} is not valid SQuAD v1.1 JSON: ${total} problem${total === 1 ? '' : 's'}${more}:`;
}

/** Adds line numbers to path-located issues; only on the error path, as locating re-parses the text. */
function locateIssues(text: string, file: string, issues: readonly { path: PropertyKey[]; expected: string; found: string }[]): InputIssue[] {
  // A missing field has no position of its own: its parent object's is used instead.
  const positions = locateJsonPaths(text, issues.flatMap((i) => [i.path, i.path.slice(0, -1)]));
  const at = (path: PropertyKey[]) => positions.get(pathKey(path)) ?? positions.get(pathKey(path.slice(0, -1)));
  return issues.map((i) => ({ file, ...at(i.path), path: formatPath(i.path), expected: i.expected, found: i.found }));
}
