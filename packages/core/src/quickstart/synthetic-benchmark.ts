import { seededRandom, shuffled } from '@xlt/plugin-api';

/** One synthetic sentence: words and their UPOS tags. */
export interface SyntheticSentence {
  readonly words: readonly string[];
  readonly tags: readonly string[];
}

/** A synthetic language: a name, how it differs from the source, and its word for each source stem. */
export interface SyntheticLanguage {
  readonly code: string;
  /** Fraction of stems replaced by new ones (its "vocabulary distance" from the source). */
  readonly remapped: number;
  /** Verb-final (SOV) instead of SVO. */
  readonly verbFinal: boolean;
  /** Adjectives after the noun instead of before. */
  readonly adjectiveAfter: boolean;
}

/**
 * Word classes of the toy grammar. Each class has an ending shared by all languages (as inflection often is):
 * a model that learns "`##or` ends verbs" on the source can tag unseen target stems, which is what makes
 * cross-lingual transfer possible here, while remapped stems and changed word order make it imperfect.
 */
const CLASSES = {
  NOUN: { stems: 28, endings: ['a', 'en'] },
  VERB: { stems: 18, endings: ['or', 'ik'] },
  ADJ: { stems: 14, endings: ['ul'] },
  PROPN: { stems: 10, endings: ['ez'] },
  ADV: { stems: 6, endings: ['im'] },
  DET: { stems: 4, endings: [''] },
  ADP: { stems: 4, endings: [''] },
  PRON: { stems: 4, endings: [''] },
} as const;
type WordClass = keyof typeof CLASSES;

const SYLLABLES = ['ka', 'lo', 'mi', 'ten', 'ru', 'sa', 'vo', 'pe', 'dri', 'gu', 'fa', 'ne', 'zo', 'bi', 'tu', 'shi', 'mar', 'kel', 'pan', 'dor'];

/** Stems (and closed-class words) of each class for one language. */
type Lexicon = Record<WordClass, string[]>;

function makeStem(random: () => number, used: Set<string>): string {
  for (;;) {
    const n = 1 + Math.floor(random() * 2);
    let s = '';
    for (let i = 0; i < n; i++) s += SYLLABLES[Math.floor(random() * SYLLABLES.length)]!;
    if (!used.has(s)) {
      used.add(s);
      return s;
    }
  }
}

/**
 * A small deterministic benchmark: a source language from a toy SVO grammar with UPOS tags, and target languages
 * derived from it by replacing part of the vocabulary and permuting word order. It is SYNTHETIC: numbers on it
 * show that the pipeline works and how strategies compare on a controlled language gap, nothing about real languages.
 */
export class SyntheticBenchmark {
  readonly #source: Lexicon;
  readonly #lexicons = new Map<string, Lexicon>();
  readonly #used = new Set<string>();

  constructor(readonly seed: number) {
    const random = seededRandom(seed);
    this.#source = this.#lexicon(random);
  }

  #lexicon(random: () => number, from?: Lexicon, remapped = 0): Lexicon {
    const out = {} as Lexicon;
    for (const cls of Object.keys(CLASSES) as WordClass[]) {
      const n = CLASSES[cls].stems;
      out[cls] = [];
      for (let i = 0; i < n; i++) out[cls].push(from && random() >= remapped ? from[cls][i]! : makeStem(random, this.#used));
    }
    return out;
  }

  /** Registers a target language; its lexicon is derived from the source with the language's own seed. */
  addLanguage(language: SyntheticLanguage): void {
    let mix = this.seed;
    for (const ch of language.code) mix = Math.imul(mix ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    this.#lexicons.set(language.code, this.#lexicon(seededRandom(mix), this.#source, language.remapped));
  }

  /** `n` sentences of a language (`undefined`: the source), from their own seed. */
  sentences(n: number, seed: number, language?: SyntheticLanguage): SyntheticSentence[] {
    const lexicon = language ? this.#lexicons.get(language.code)! : this.#source;
    const random = seededRandom(seed);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    const word = (cls: WordClass): [string, string] => [pick(lexicon[cls]) + pick(CLASSES[cls].endings), cls];
    const phrase = (): [string, string][] => {
      if (random() < 0.2) return [word('PROPN')];
      if (random() < 0.15) return [word('PRON')];
      const np: [string, string][] = [word('DET')];
      const adj = random() < 0.5 ? [word('ADJ')] : [];
      return language?.adjectiveAfter ? [...np, word('NOUN'), ...adj] : [...np, ...adj, word('NOUN')];
    };
    const out: SyntheticSentence[] = [];
    for (let i = 0; i < n; i++) {
      const subject = phrase();
      const verb: [string, string][] = [word('VERB'), ...(random() < 0.3 ? [word('ADV')] : [])];
      const object = phrase();
      const pp: [string, string][] = random() < 0.4 ? [word('ADP'), ...phrase()] : [];
      const parts = language?.verbFinal ? [...subject, ...object, ...pp, ...verb] : [...subject, ...verb, ...object, ...pp];
      parts.push(['.', 'PUNCT']);
      out.push({ words: parts.map((p) => p[0]), tags: parts.map((p) => p[1]) });
    }
    return out;
  }

  /**
   * A WordPiece vocabulary covering every language: special tokens, every stem of every lexicon as a word start,
   * the endings as `##` continuations, and single characters so nothing is unknown.
   */
  vocabulary(): string[] {
    const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '.'];
    const stems = new Set<string>();
    for (const lexicon of [this.#source, ...this.#lexicons.values()]) for (const cls of Object.keys(CLASSES) as WordClass[]) for (const s of lexicon[cls]) stems.add(s);
    const endings = new Set(Object.values(CLASSES).flatMap((c) => c.endings).filter((e) => e !== '').map((e) => `##${e}`));
    const chars = [...new Set([...stems].join(''))].sort();
    // A Set keeps the first of duplicates (an ending such as `##a` is also a character piece).
    return [...new Set([...specials, ...shuffled([...stems].sort(), seededRandom(this.seed)), ...[...endings].sort(), ...chars, ...chars.map((c) => `##${c}`)])];
  }
}

/** CoNLL-U text of sentences (ID, FORM, UPOS filled; other columns `_`), with `# sent_id` and `# text`. */
export function toConllu(sentences: readonly SyntheticSentence[], prefix: string): string {
  const blocks = sentences.map((s, i) => {
    const lines = [`# sent_id = ${prefix}-${i + 1}`, `# text = ${s.words.join(' ')}`];
    s.words.forEach((w, j) => lines.push([j + 1, w, '_', s.tags[j], '_', '_', j === 0 ? 0 : 1, j === 0 ? 'root' : 'dep', '_', '_'].join('\t')));
    return `${lines.join('\n')}\n`;
  });
  return `${blocks.join('\n')}\n`;
}
