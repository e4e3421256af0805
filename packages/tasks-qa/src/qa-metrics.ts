import { XltError } from '@xlt/plugin-api';
import { normalizeMlqaAnswer, normalizeSquadAnswer, pythonSplit } from './answer-normalization.js';

/** Exact match and token F1 in percent, under the official scripts' names. */
export interface QaScores {
  readonly exact_match: number;
  readonly f1: number;
  /** [index: string]: keeps the result assignable to core `Metrics`. */
  readonly [metric: string]: number;
}

/** Token F1 of two normalized answers (`f1_score`): bag-of-tokens overlap; 0 when nothing is shared (so 0 for two empties). */
export function tokenF1(normalizedPrediction: string, normalizedGold: string): number {
  const pred = pythonSplit(normalizedPrediction);
  const gold = pythonSplit(normalizedGold);
  const counts = new Map<string, number>();
  for (const t of gold) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of pred) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      same++;
      counts.set(t, c - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / pred.length;
  const recall = same / gold.length;
  return (2 * precision * recall) / (precision + recall);
}

function scores(golds: readonly (readonly string[])[], predictions: readonly string[], normalize: (s: string) => string): QaScores {
  if (golds.length !== predictions.length) {
    throw new XltError(`Cannot score ${predictions.length} predictions against ${golds.length} questions: one prediction per question is needed.`);
  }
  if (golds.length === 0) throw new XltError('Cannot score an empty set of questions (the official scripts divide by zero).');
  let em = 0;
  let f1 = 0;
  golds.forEach((answers, i) => {
    if (answers.length === 0) throw new XltError(`Question ${i} has no gold answer; SQuAD v1.1 scoring needs at least one.`);
    const pred = normalize(predictions[i]!);
    let bestEm = 0;
    let bestF1 = 0;
    for (const answer of answers) {
      const gold = normalize(answer);
      if (gold === pred) bestEm = 1;
      bestF1 = Math.max(bestF1, tokenF1(pred, gold));
    }
    em += bestEm;
    f1 += bestF1;
  });
  return { exact_match: (100 * em) / golds.length, f1: (100 * f1) / golds.length };
}

/**
 * EM and F1 exactly as the official SQuAD v1.1 `evaluate-v1.1.py`: per question the max over its gold answers
 * (duplicates allowed), averaged over questions, in percent. `golds[i]` are the answer texts of question `i`,
 * `predictions[i]` its predicted text. An empty prediction scores F1 0, and EM 1 only against a gold answer that
 * normalizes to nothing (e.g. `"The"`), as in the script.
 */
export function squadScores(golds: readonly (readonly string[])[], predictions: readonly string[]): QaScores {
  return scores(golds, predictions, normalizeSquadAnswer);
}

/**
 * EM and F1 exactly as the official MLQA `mlqa_evaluation_v1.py` for answer language `language`
 * (en es hi vi de ar zh): Unicode punctuation, the language's articles and Chinese character tokens
 * (see {@link normalizeMlqaAnswer}).
 */
export function mlqaScores(golds: readonly (readonly string[])[], predictions: readonly string[], language: string): QaScores {
  normalizeMlqaAnswer('', language); // rejects an unknown language even before the first question
  return scores(golds, predictions, (s) => normalizeMlqaAnswer(s, language));
}
