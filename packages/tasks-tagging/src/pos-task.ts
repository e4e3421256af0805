import type { DatasetSource, HeadContext, Metrics, TaskContext, TaskPlugin, Tokenizer } from '@xlt/core';
import { conlluFormat, parseConllu } from './conllu-reader.js';
import { collateTagging, decodeTagging, featurizeTagging, type TaggingFeature } from './features.js';
import { isUpos, UPOS_TAGS } from './labels.js';
import { parseTaggingOptions, taggingOptionsSchema } from './options.js';
import { formatTagPredictions, parseTagPredictions } from './predictions.js';
import { readWithFormat } from './read-source.js';
import { posScores } from './scoring.js';
import type { TaggedSentence, TagPrediction } from './tagged-sentence.js';
import { createTokenClassificationHead } from './token-classification-head.js';

/** Default tag of words cut off by truncation: the most frequent UPOS in EWT train and in every PUD test set. */
export const POS_TRUNCATED_TAG = 'NOUN';

/**
 * Part-of-speech tagging on Universal Dependencies (CoNLL-U, UPOS), XTREME's udpos: token classification over the
 * 17 UPOS tags, scored by word accuracy in percent.
 */
export const posTask: TaskPlugin<TaggedSentence, TaggingFeature, TagPrediction> = {
  id: 'pos',
  description: 'POS tagging (UD CoNLL-U, 17 UPOS tags), word accuracy',
  optionsSchema: taggingOptionsSchema,
  primaryMetric: 'accuracy',
  formats: [conlluFormat],
  async read(source: DatasetSource): Promise<TaggedSentence[]> {
    const { text } = await readWithFormat(source, posTask.formats);
    return parseConllu(text, source.path);
  },
  labelSpace(): string[] {
    return [...UPOS_TAGS];
  },
  featurize(examples: readonly TaggedSentence[], tokenizer: Tokenizer, context: TaskContext) {
    return featurizeTagging(examples, tokenizer, context);
  },
  collate(features, sequenceLength) {
    return collateTagging(features, sequenceLength);
  },
  createHead(context: HeadContext) {
    return createTokenClassificationHead(context);
  },
  decode(logits, features, examples, context) {
    const fallback = parseTaggingOptions(context.options).truncatedTag ?? POS_TRUNCATED_TAG;
    return decodeTagging(logits, features, examples, context.labels, fallback);
  },
  score(examples, predictions, context): Metrics {
    return posScores(examples, predictions, context.labels);
  },
  formatPredictions(predictions, examples) {
    return formatTagPredictions(predictions, examples);
  },
  parsePredictions(text, file, examples) {
    return parseTagPredictions(text, file, examples, isUpos, `a UPOS tag (${UPOS_TAGS.join(' ')})`);
  },
};
