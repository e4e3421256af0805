import type { TaskPlugin } from '@xlt/plugin-api';
import { collateTagging, decodeTagging, featurizeTagging, type TaggingFeature } from './features.js';
import { parseTaggingOptions, taggingOptionsSchema } from './options.js';
import { formatTagPredictions, parseTagPredictions } from './predictions.js';
import type { TaggedSentence, TagPrediction } from './tagged-sentence.js';
import { createTokenClassificationHead } from './token-classification-head.js';

type TaggingTask = TaskPlugin<TaggedSentence, TaggingFeature, TagPrediction>;

/** How a tagging task's tags look: the default tag of truncated words and the test and description of a valid tag. */
export interface TagSet {
  /** Tag of a word cut off by truncation when the `truncatedTag` option is absent. */
  readonly truncatedTag: string;
  readonly isTag: (tag: string) => boolean;
  /** What a valid tag is, for error messages about predictions files. */
  readonly expected: string;
}

/**
 * What every token-classification task shares (options, features, head, decoding and predictions files); a task
 * adds its id, formats, reader, label space and scores.
 */
export function taggingTaskParts(tags: TagSet): Omit<TaggingTask, 'id' | 'description' | 'primaryMetric' | 'formats' | 'read' | 'labelSpace' | 'score'> {
  return {
    optionsSchema: taggingOptionsSchema,
    featurize: (examples, tokenizer, context) => featurizeTagging(examples, tokenizer, context),
    collate: (features, sequenceLength) => collateTagging(features, sequenceLength),
    createHead: (context) => createTokenClassificationHead(context),
    decode(logits, features, examples, context) {
      const fallback = parseTaggingOptions(context.options).truncatedTag ?? tags.truncatedTag;
      return decodeTagging(logits, features, examples, context.labels, fallback);
    },
    formatPredictions: (predictions, examples) => formatTagPredictions(predictions, examples),
    parsePredictions: (text, file, examples) => parseTagPredictions(text, file, examples, tags.isTag, tags.expected),
  };
}
