/** One gold answer: its text and where it starts in the context, in UTF-16 code units (JavaScript indices). */
export interface QaAnswer {
  readonly text: string;
  /** Offset of the answer in {@link QaExample.context}; `context.slice(answerStart, answerStart + text.length) === text`. */
  readonly answerStart: number;
}

/**
 * The benchmark a file comes from, as far as the reader can tell: MLQA (numeric `"version"` or an MLQA file name),
 * TyDiQA-GoldP (its version string) or SQuAD otherwise (SQuAD v1.1 itself and XQuAD share one layout).
 */
export type QaBenchmark = 'squad' | 'mlqa' | 'tydiqa';

/** One extractive QA question over one context paragraph (a `qas` entry of SQuAD v1.1 JSON). */
export interface QaExample {
  /** The question id, unique within its file: the key of the predictions JSON. */
  readonly id: string;
  readonly question: string;
  /** The paragraph, exactly as in the file (a leading U+FEFF is kept so that offsets stay right). */
  readonly context: string;
  /** Gold answers in file order; duplicates are kept, as the official scripts take the max over them. */
  readonly answers: readonly QaAnswer[];
  /** Title of the article; absent in TyDiQA-GoldP. */
  readonly title?: string;
  readonly benchmark: QaBenchmark;
  /** 0-based index of the paragraph in its file (counted across articles), when read from a file. */
  readonly paragraph?: number;
  /** Language of the context, when the caller gave it or the file name tells it (MLQA `dev-context-de-...`). */
  readonly language?: string;
}
