import type { NliLabel } from './labels.js';

/** One premise–hypothesis pair with its gold label, and where it was read (for error messages). */
export interface NliExample {
  /** The premise, exactly as in the file (spaces, U+FEFF, U+200B kept). */
  readonly premise: string;
  readonly hypothesis: string;
  readonly label: NliLabel;
  /** The file it was read from, as given. */
  readonly file: string;
  /** 1-based line in that file. */
  readonly line: number;
  /** The pair's id where the file has one (AmericasNLI `id`, JSONL `id`/`pairID`). */
  readonly id?: string;
}
