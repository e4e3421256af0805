import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { InputError } from '@xlt/plugin-api';
import { sharedPath } from '@xlt/plugin-api/testing';
import { describe, expect, it } from 'vitest';
import { decodeAnswers } from './nbest.js';
import { featurizeQa } from './qa-features.js';
import { mlqaScores, squadScores } from './qa-metrics.js';
import { normalizeMlqaAnswer, normalizeSquadAnswer } from './answer-normalization.js';
import { QaTask } from './qa-task.js';
import { readSquadJson } from './squad-reader.js';
import { hfTokenizer } from './testing/hf-tokenizer.js';

/** Official counts from shared/data/README-qa-nli.md: paragraphs, questions, answers (undefined: not published). */
const XQUAD = ['ar', 'de', 'el', 'en', 'es', 'hi', 'ro', 'ru', 'th', 'tr', 'vi', 'zh'];
const MLQA: Record<string, [number, number]> = { en: [978, 1148], de: [456, 512], es: [454, 500], ar: [439, 517], hi: [425, 507], vi: [451, 511], zh: [443, 504] };
const TYDIQA: Record<string, number> = { ar: 921, bn: 113, en: 440, fi: 782, id: 565, ko: 276, ru: 812, sw: 499, te: 669 };

const expected = new Map<string, { paragraphs: number; questions: number; answers: number; benchmark: string; language?: string }>();
for (const l of XQUAD) expected.set(`xquad/xquad.${l}.json.gz`, { paragraphs: 240, questions: 1190, answers: 1190, benchmark: 'squad' });
expected.set('squad-v1.1/dev-v1.1.json.gz', { paragraphs: 2067, questions: 10570, answers: 34726, benchmark: 'squad' });
for (const [l, [p, q]] of Object.entries(MLQA)) expected.set(`mlqa/dev-context-${l}-question-${l}.json.gz`, { paragraphs: p, questions: q, answers: q, benchmark: 'mlqa', language: l });
for (const [l, n] of Object.entries(TYDIQA)) expected.set(`tydiqa-goldp/tydiqa.goldp.${l}.dev.json.gz`, { paragraphs: n, questions: n, answers: n, benchmark: 'tydiqa' });

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? listFiles(join(dir, d.name)) : [join(dir, d.name)]));
}

describe('QA benchmark files in shared/data/qa', () => {
  const root = sharedPath('data', 'qa');
  const files = listFiles(root).map((f) => relative(root, f)).sort();

  it('holds exactly the files with published counts', () => {
    expect(files).toEqual([...expected.keys()].sort());
  });

  it.each([...expected.keys()].sort())('%s: reads with the official counts; gold scored against itself as the scripts do', async (name) => {
    const want = expected.get(name)!;
    const path = join(root, name);
    if (want.benchmark === 'tydiqa') {
      // These copies have every answer blanked ("text": "", "answer_start": 0): refused unless asked for.
      const refused = await readSquadJson(path).catch((e: unknown) => e as Error);
      expect(refused).toBeInstanceOf(InputError);
      expect((refused as Error).message).toContain(`${want.questions} problem`);
      expect((refused as InputError).issues[0]!.path).toMatch(/answers\[0\]\.text$/);
    }
    const examples = await readSquadJson(path, { allowEmptyAnswers: want.benchmark === 'tydiqa' });
    expect(examples).toHaveLength(want.questions);
    expect(new Set(examples.map((e) => e.paragraph)).size).toBe(want.paragraphs);
    expect(examples.reduce((n, e) => n + e.answers.length, 0)).toBe(want.answers);
    expect(new Set(examples.map((e) => e.benchmark))).toEqual(new Set([want.benchmark]));
    expect(examples[0]!.language).toBe(want.language);
    if (want.benchmark === 'tydiqa') expect(examples.every((e) => e.title === undefined)).toBe(true);
    else expect(examples.every((e) => typeof e.title === 'string')).toBe(true);

    const golds = examples.map((e) => e.answers.map((a) => a.text));
    const firsts = golds.map((g) => g[0]!);
    // Per the scripts, EM is 1 for identical texts, but F1 is 0 where the gold normalizes to nothing
    // (an answer that is only an article or punctuation, or an empty one).
    const f1Of = (normalize: (s: string) => string) => (100 * firsts.filter((t) => normalize(t) !== '').length) / firsts.length;
    expect(squadScores(golds, firsts)).toEqual({ exact_match: 100, f1: f1Of(normalizeSquadAnswer) });
    if (want.benchmark !== 'tydiqa') expect(squadScores(golds, firsts).f1).toBe(100);
    if (want.language) {
      const language = want.language;
      expect(mlqaScores(golds, firsts, language)).toEqual({ exact_match: 100, f1: f1Of((t) => normalizeMlqaAnswer(t, language)) });
      // the task's own choice of script for MLQA files is the MLQA one
      expect(new QaTask().score(examples, firsts, { labels: [], maxLength: 384, options: {} })).toEqual(mlqaScores(golds, firsts, language));
    }
  });

  it('MLQA es: exactly one gold answer is only an article ("una"), which the MLQA script scores F1 0 against itself', async () => {
    const examples = await readSquadJson(join(root, 'mlqa/dev-context-es-question-es.json.gz'));
    const empty = examples.filter((e) => normalizeMlqaAnswer(e.answers[0]!.text, 'es') === '').map((e) => e.answers[0]!.text);
    expect(empty).toEqual(['una']);
    const golds = examples.map((e) => e.answers.map((a) => a.text));
    expect(mlqaScores(golds, golds.map((g) => g[0]!), 'es').f1).toBeCloseTo((100 * 499) / 500, 10);
  });

  it('SQuAD dev: an empty prediction scores 0 F1, and any gold answer as prediction scores 100 EM', async () => {
    const examples = await readSquadJson(join(root, 'squad-v1.1/dev-v1.1.json.gz'));
    const golds = examples.map((e) => e.answers.map((a) => a.text));
    expect(squadScores(golds, golds.map(() => '')).f1).toBe(0);
    expect(squadScores(golds, golds.map((g) => g[g.length - 1]!)).exact_match).toBe(100);
  });
});

describe('featurizing real XQuAD with the real mBERT tokenizer', () => {
  const tokenizer = hfTokenizer(sharedPath('data', 'tokenizer', 'bert-base-multilingual-cased', 'tokenizer.json'));

  /*
   * The answer's token span gives back the answer text for at least 99% of questions in every language tried:
   * Arabic clitics and Thai (no spaces) put a few answers inside word pieces, where the span carries extra
   * characters of its first or last token. The span always contains the answer.
   */
  it.each(['en', 'de', 'ru', 'zh', 'ar', 'th'])('xquad.%s: 384-token windows whose answer spans give back the answer text', async (lang) => {
    const examples = await readSquadJson(sharedPath('data', 'qa', 'xquad', `xquad.${lang}.json.gz`));
    const features = await featurizeQa(examples, tokenizer);
    expect(features.every((f) => f.inputIds.length <= 384 && f.inputIds[0] === tokenizer.clsId && f.inputIds.at(-1) === tokenizer.sepId)).toBe(true);
    expect(features.length).toBeGreaterThan(examples.length); // some XQuAD contexts need more than one window

    const firstWindow = new Map<number, (typeof features)[number]>();
    for (const f of features) if (f.startPosition > 0 && !firstWindow.has(f.exampleIndex)) firstWindow.set(f.exampleIndex, f);
    expect(firstWindow.size).toBe(examples.length); // every answer lies whole inside some window
    let exact = 0;
    // Exact spans that n-best decoding can return: at most maxAnswerLength (30) tokens, inside the window where the
    // start token has its maximum context (decoding starts answers only there).
    let decodable = 0;
    examples.forEach((e, i) => {
      const f = firstWindow.get(i)!;
      const [start, end] = [f.offsets[f.startPosition]![0], f.offsets[f.endPosition]![1]];
      const a = e.answers[0]!;
      expect(start <= a.answerStart && end >= a.answerStart + a.text.length).toBe(true);
      if (e.context.slice(start, end) !== a.text) return;
      exact++;
      const last = a.answerStart + a.text.length - 1;
      const ok = features.some((w) => {
        if (w.exampleIndex !== i) return false;
        const s0 = w.offsets.findIndex((o, t) => o !== null && w.maxContext[t] && o[0] <= a.answerStart && a.answerStart < o[1]);
        const e0 = w.offsets.findIndex((o) => o !== null && o[0] <= last && last < o[1]);
        return s0 >= 0 && e0 >= s0 && e0 - s0 + 1 <= 30;
      });
      if (ok) decodable++;
    });
    expect(exact / examples.length).toBeGreaterThanOrEqual(0.99);

    // Oracle logits: high on the tokens holding the answer's first and last characters, in every window.
    const logits = features.map((f) => {
      const a = examples[f.exampleIndex]!.answers[0]!;
      const last = a.answerStart + a.text.length - 1;
      const row = new Float32Array(2 * f.inputIds.length).fill(-5);
      f.offsets.forEach((o, t) => {
        if (o && o[0] <= a.answerStart && a.answerStart < o[1]) row[2 * t] = 10;
        if (o && o[0] <= last && last < o[1]) row[2 * t + 1] = 10;
      });
      return row;
    });
    const predictions = decodeAnswers(logits, features, examples);
    const scores = squadScores(examples.map((e) => e.answers.map((a) => a.text)), predictions);
    console.log(`xquad.${lang}: ${examples.length} questions, ${features.length} windows, exact spans ${exact}, decodable ${decodable}, oracle EM ${scores.exact_match.toFixed(2)} F1 ${scores.f1.toFixed(2)}`);
    expect(scores.exact_match).toBeGreaterThanOrEqual((100 * decodable) / examples.length);
  });
});
