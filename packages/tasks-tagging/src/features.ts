import { InputError, XltError, type BatchTargets, type Feature, type TaskContext, type Tokenizer } from '@xlt/plugin-api';
import { parseTaggingOptions } from './options.js';
import type { TaggedSentence, TagPrediction } from './tagged-sentence.js';

/** Label of tokens the loss ignores (special tokens, padding, non-first sub-words): PyTorch's `ignore_index`. */
export const IGNORE_LABEL = -100;

/** A tagging feature: one window of a sentence with a label per token and where each word starts. */
export interface TaggingFeature extends Feature {
  /** Per token: the label index, or {@link IGNORE_LABEL}. Gold tags outside the label space are ignored too. */
  readonly labels: readonly number[];
  /** Per word of the sentence: the index of its first sub-word token, or -1 when it has none in the window. */
  readonly firstTokens: readonly number[];
}

/**
 * Encodes sentences with {@link Tokenizer.encodeWords} (truncated to `context.maxLength`, one window each) and
 * puts the word's label on its first sub-word, or on every sub-word with `labelAllSubwords`.
 * Words cut off by truncation keep `firstTokens[w] = -1`; {@link decodeTagging} gives them the fallback tag.
 */
export async function featurizeTagging(
  examples: readonly TaggedSentence[],
  tokenizer: Tokenizer,
  context: TaskContext,
): Promise<TaggingFeature[]> {
  const { labelAllSubwords } = parseTaggingOptions(context.options);
  const labelIndex = new Map(context.labels.map((l, i) => [l, i]));
  return Promise.all(
    examples.map(async (example, exampleIndex) => {
      const [encoding] = await tokenizer.encodeWords(example.words, { maxLength: context.maxLength });
      if (!encoding) {
        throw new InputError([
          { file: example.file, line: example.line, expected: `a sentence the tokenizer encodes (sentence ${exampleIndex})`, found: 'no encoding from the tokenizer' },
        ]);
      }
      const firstTokens = new Array<number>(example.words.length).fill(-1);
      const labels = new Array<number>(encoding.ids.length).fill(IGNORE_LABEL);
      encoding.wordIds.forEach((word, t) => {
        if (word === null || word === undefined) return;
        const first = firstTokens[word] === -1;
        if (first) firstTokens[word] = t;
        if (first || labelAllSubwords) labels[t] = labelIndex.get(example.tags[word]!) ?? IGNORE_LABEL;
      });
      return {
        exampleIndex,
        inputIds: encoding.ids,
        tokenTypeIds: encoding.typeIds,
        labels,
        firstTokens,
      };
    }),
  );
}

/** Collates `labels` as int32 `[B, sequenceLength]`, padding with {@link IGNORE_LABEL}. */
export function collateTagging(features: readonly TaggingFeature[], sequenceLength: number): BatchTargets {
  const labels = new Int32Array(features.length * sequenceLength).fill(IGNORE_LABEL);
  features.forEach((f, b) => {
    if (f.labels.length > sequenceLength) {
      // A bug in batching, not user input: a plain Error keeps its stack.
      throw new XltError(`Feature ${b} has ${f.labels.length} tokens, more than the batch's sequence length ${sequenceLength}`);
    }
    labels.set(f.labels, b * sequenceLength);
  });
  return { labels };
}

/**
 * One prediction per example: for each word, the label with the highest logit at its first sub-word (the first
 * one on ties, like `torch.argmax`); words with no sub-word in the window get `fallbackTag` and are counted.
 * `logits[k]` is feature k's `[T, L]` output, row-major.
 */
export function decodeTagging(
  logits: readonly Float32Array[],
  features: readonly TaggingFeature[],
  examples: readonly TaggedSentence[],
  labels: readonly string[],
  fallbackTag: string,
): TagPrediction[] {
  const L = labels.length;
  const out: (TagPrediction | undefined)[] = new Array(examples.length);
  features.forEach((feature, k) => {
    const row = logits[k]!;
    if (row.length < feature.inputIds.length * L) {
      // The trainer's logits disagree with its own features: a bug, so a plain Error keeps its stack.
      throw new XltError(`Logits of feature ${k} hold ${row.length} values, expected ${feature.inputIds.length} tokens x ${L} labels`);
    }
    let truncatedWords = 0;
    const tags = feature.firstTokens.map((t) => {
      if (t < 0) {
        truncatedWords++;
        return fallbackTag;
      }
      let best = 0;
      let bestValue = row[t * L]!;
      for (let l = 1; l < L; l++) {
        const v = row[t * L + l]!;
        if (v > bestValue) {
          best = l;
          bestValue = v;
        }
      }
      return labels[best]!;
    });
    out[feature.exampleIndex] = { tags, truncatedWords };
  });
  return out.map((p, i) => {
    // Every example yields a feature by construction: a bug otherwise, so a plain Error keeps its stack.
    if (!p) throw new XltError(`No feature for example ${i} (${examples[i]!.file}:${examples[i]!.line})`);
    return p;
  });
}
