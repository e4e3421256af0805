/**
 * One sentence of a tagging data set: its words and one gold tag per word (UPOS for POS, IOB2 for NER), with
 * where it came from so that later errors (scoring, predictions files) can point back into the data file.
 */
export interface TaggedSentence {
  readonly words: readonly string[];
  readonly tags: readonly string[];
  /** The data file, as given. */
  readonly file: string;
  /** 1-based line of the sentence's first line (its first comment in CoNLL-U). */
  readonly line: number;
  /** CoNLL-U: every `#` comment line of the sentence, verbatim and in order (`# sent_id = ...`, `# text = ...`). */
  readonly comments?: readonly string[];
  /** CoNLL-U: the value of `# sent_id = ...`, when present. */
  readonly id?: string;
}

/** What the tagging tasks predict for one sentence: one tag per gold word. */
export interface TagPrediction {
  readonly tags: readonly string[];
  /**
   * How many words got the fallback tag because none of their sub-words fitted in the model's window (or the
   * tokenizer produced none for them). Absent for predictions read from a file, where it is unknown.
   */
  readonly truncatedWords?: number;
}
