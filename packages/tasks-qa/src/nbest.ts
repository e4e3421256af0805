import { XltError } from '@xlt/plugin-api';
import type { QaExample } from './qa-example.js';
import type { QaFeature } from './qa-features.js';

/** One candidate answer span of a question. */
export interface AnswerCandidate {
  /** `context.slice(start, end)` of the span's first and last tokens (UTF-16). */
  readonly text: string;
  /** Start logit + end logit. */
  readonly score: number;
  readonly start: number;
  readonly end: number;
  /** Index of the feature (window) it comes from. */
  readonly featureIndex: number;
}

/** Decoding options, with the defaults of `run_squad.py` (XTREME). */
export interface NBestOptions {
  /** Start and end candidates taken per window, by logit (20). */
  readonly nBest: number;
  /** Longest answer in tokens (30). */
  readonly maxAnswerLength: number;
}

/** Default {@link NBestOptions}. */
export const DEFAULT_NBEST_OPTIONS: NBestOptions = { nBest: 20, maxAnswerLength: 30 };

/** Indices of the `k` largest values, largest first; ties go to the lower index. */
function topIndices(values: Float32Array | readonly number[], k: number): number[] {
  const order = Array.from({ length: values.length }, (_, i) => i);
  order.sort((a, b) => values[b]! - values[a]! || a - b);
  return order.slice(0, k);
}

/**
 * The n-best answers of each example from the `[T, 2]` logits of its windows (start logit, end logit per token;
 * padding already removed). Per window the `nBest` highest start and end tokens are paired; a pair counts when both
 * tokens are context tokens, the start is in its max-context window, start <= end and the span has at most
 * `maxAnswerLength` tokens. Candidates of all windows of an example are ranked by start + end logit; equal texts are
 * kept once. Returns, per example, up to `nBest` candidates, best first (empty when no pair qualifies).
 */
export function nBestAnswers(
  logits: readonly Float32Array[],
  features: readonly QaFeature[],
  examples: readonly QaExample[],
  options: NBestOptions = DEFAULT_NBEST_OPTIONS,
): AnswerCandidate[][] {
  if (logits.length !== features.length) {
    throw new XltError(`Got logits for ${logits.length} windows but there are ${features.length} features.`);
  }
  const perExample: AnswerCandidate[][] = examples.map(() => []);
  features.forEach((feature, f) => {
    const row = logits[f]!;
    const length = feature.inputIds.length;
    if (row.length !== 2 * length) {
      throw new XltError(`Logits of window ${f} have ${row.length} values; expected ${2 * length} ([${length}, 2], padding removed).`);
    }
    const example = examples[feature.exampleIndex];
    if (!example) throw new XltError(`Window ${f} refers to example ${feature.exampleIndex}, but there are ${examples.length} examples.`);
    const starts = new Float32Array(length);
    const ends = new Float32Array(length);
    for (let t = 0; t < length; t++) {
      starts[t] = row[2 * t]!;
      ends[t] = row[2 * t + 1]!;
    }
    for (const s of topIndices(starts, options.nBest)) {
      const so = feature.offsets[s];
      if (!so || !feature.maxContext[s]) continue;
      for (const e of topIndices(ends, options.nBest)) {
        const eo = feature.offsets[e];
        if (!eo || e < s || e - s + 1 > options.maxAnswerLength) continue;
        perExample[feature.exampleIndex]!.push({
          text: example.context.slice(so[0], eo[1]),
          score: starts[s]! + ends[e]!,
          start: s,
          end: e,
          featureIndex: f,
        });
      }
    }
  });
  return perExample.map((candidates) => {
    candidates.sort((a, b) => b.score - a.score || a.featureIndex - b.featureIndex || a.start - b.start || a.end - b.end);
    const seen = new Set<string>();
    const out: AnswerCandidate[] = [];
    for (const c of candidates) {
      if (seen.has(c.text)) continue;
      seen.add(c.text);
      out.push(c);
      if (out.length === options.nBest) break;
    }
    return out;
  });
}

/** One answer string per example: the best n-best candidate, or `""` when there is none. */
export function decodeAnswers(
  logits: readonly Float32Array[],
  features: readonly QaFeature[],
  examples: readonly QaExample[],
  options: NBestOptions = DEFAULT_NBEST_OPTIONS,
): string[] {
  return nBestAnswers(logits, features, examples, options).map((c) => c[0]?.text ?? '');
}
