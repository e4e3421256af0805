import { XltError } from '@xlt/plugin-api';

/*
 * Answer normalization of the official evaluation scripts, reproduced rule by rule. Both scripts run under
 * Python 3, where `str` methods and `re` are Unicode-aware; the JavaScript equivalents below are chosen to agree:
 *
 * - `s.lower()` -> `toLowerCase()`: both apply Unicode's full default lower-casing (`İ` -> `i̇`, final sigma).
 * - `text.split()` splits on Python's whitespace (`str.isspace`): JavaScript's `\s` minus U+FEFF plus U+001C..U+001F
 *   and U+0085, so it is spelled out in {@link PY_WHITESPACE}.
 * - `\b` in a `str` pattern is a boundary between a Python word character (`str.isalnum()` or `_`: letters and
 *   numbers, *not* combining marks) and anything else. JavaScript's `\b` is ASCII-only even with the `u` flag, so the
 *   boundary is written as lookarounds over `[\p{L}\p{N}_]`.
 * - Iterating `for ch in text` walks code points; so does `for..of` and a `u`-flag regex.
 * The Unicode version of Python's `unicodedata` and of Node's ICU may differ for characters added recently; that
 * only matters for punctuation added after Unicode 12 and is accepted.
 */

/** Python's `string.punctuation`: the 32 ASCII punctuation and symbol characters. */
export const ASCII_PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

const PY_WHITESPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_WHITESPACE_RUN = new RegExp(`[${PY_WHITESPACE}]+`, 'u');
const ASCII_PUNCTUATION_CLASS = ASCII_PUNCTUATION.replace(/[\\\]\[^-]/g, '\\$&');
const SQUAD_PUNCTUATION = new RegExp(`[${ASCII_PUNCTUATION_CLASS}]`, 'gu');
/** MLQA's PUNCT: every character whose Unicode category starts with `P`, plus `string.punctuation`. */
const MLQA_PUNCTUATION = new RegExp(`[\\p{P}${ASCII_PUNCTUATION_CLASS}]`, 'gu');
const MLQA_PUNCTUATION_ONE = new RegExp(`^[\\p{P}${ASCII_PUNCTUATION_CLASS}]$`, 'u');
/** The script tests `re.search(r'[\u4e00-\u9fa5]', char)`: the CJK Unified Ideographs block up to U+9FA5 only. */
const CJK_CHAR = /^[\u4e00-\u9fa5]$/u;

/** Words removed as articles, by language, as whole words (Python `\b(...)\b`). */
function wordRegex(words: readonly string[]): RegExp {
  return new RegExp(`(?<![\\p{L}\\p{N}_])(?:${words.join('|')})(?![\\p{L}\\p{N}_])`, 'gu');
}

const ENGLISH_ARTICLES = wordRegex(['a', 'an', 'the']);

/**
 * Articles per MLQA language, as in `mlqa_evaluation_v1.py`. `hi` and `zh` have none. For `ar` the script's pattern
 * is `'\sال^|ال'`: the first alternative needs `^` (start of string, no MULTILINE) after two consumed characters
 * and never matches, so the rule is "replace every `ال` with a space", inside words too.
 */
const MLQA_ARTICLES: Readonly<Record<string, ((text: string) => string) | null>> = {
  en: (t) => t.replace(ENGLISH_ARTICLES, ' '),
  es: ((re) => (t: string) => t.replace(re, ' '))(wordRegex(['un', 'una', 'unos', 'unas', 'el', 'la', 'los', 'las'])),
  hi: null,
  vi: ((re) => (t: string) => t.replace(re, ' '))(wordRegex(['của', 'là', 'cái', 'chiếc', 'những'])),
  de: ((re) => (t: string) => t.replace(re, ' '))(
    wordRegex(['ein', 'eine', 'einen', 'einem', 'eines', 'einer', 'der', 'die', 'das', 'den', 'dem', 'des']),
  ),
  ar: (t) => t.replaceAll('ال', ' '),
  zh: null,
};

/** Languages the MLQA script knows; any other makes it raise, and {@link normalizeMlqaAnswer} too. */
export const MLQA_LANGUAGES: readonly string[] = Object.keys(MLQA_ARTICLES);

/** Python's `str.split()` with no argument: runs of whitespace separate, empty tokens never appear. */
export function pythonSplit(text: string): string[] {
  return text.split(PY_WHITESPACE_RUN).filter((t) => t !== '');
}

/**
 * `normalize_answer` of the official SQuAD v1.1 `evaluate-v1.1.py`: lower-case, drop every character of
 * `string.punctuation`, replace the whole words `a`, `an`, `the` with a space, then collapse whitespace
 * (`' '.join(text.split())`). Unicode punctuation (`«`, `。`, `’`) is kept, as in the script.
 */
export function normalizeSquadAnswer(s: string): string {
  const noPunct = s.toLowerCase().replace(SQUAD_PUNCTUATION, '');
  return pythonSplit(noPunct.replace(ENGLISH_ARTICLES, ' ')).join(' ');
}

/**
 * `mixed_segmentation` of the MLQA script: each CJK ideograph (U+4E00..U+9FA5) and each punctuation character is a
 * token of its own; the runs of other characters between them are split on whitespace.
 */
export function mixedSegmentation(text: string): string[] {
  const out: string[] = [];
  let run = '';
  for (const ch of text) {
    if (CJK_CHAR.test(ch) || MLQA_PUNCTUATION_ONE.test(ch)) {
      if (run !== '') out.push(...pythonSplit(run));
      run = '';
      out.push(ch);
    } else run += ch;
  }
  if (run !== '') out.push(...pythonSplit(run));
  return out;
}

/**
 * `normalize_answer(s, lang)` of the official MLQA `mlqa_evaluation_v1.py`, in the script's order:
 * 1. lower-case;
 * 2. drop punctuation: every Unicode `P*` character and `string.punctuation`;
 * 3. replace the language's articles with a space (see {@link MLQA_LANGUAGES}; `ar` replaces `ال` everywhere);
 * 4. tokenize, on whitespace for en es hi vi de ar, by {@link mixedSegmentation} for zh, and join the non-blank
 *    tokens with single spaces (so Chinese ideographs come out space-separated, one token each).
 * An unknown language is an error, as the script raises.
 */
export function normalizeMlqaAnswer(s: string, language: string): string {
  if (!(language in MLQA_ARTICLES)) {
    throw new XltError(`The MLQA metric knows the languages ${MLQA_LANGUAGES.join(', ')}; found "${language}". Use metric "squad" for others.`);
  }
  const noPunct = s.toLowerCase().replace(MLQA_PUNCTUATION, '');
  const articles = MLQA_ARTICLES[language];
  const noArticles = articles ? articles(noPunct) : noPunct;
  const tokens = language === 'zh' ? mixedSegmentation(noArticles) : pythonSplit(noArticles);
  // The script's `t.strip() != ''` with Python's whitespace: JavaScript's trim() would also drop a U+FEFF token.
  return tokens.filter((t) => pythonSplit(t).length > 0).join(' ');
}
