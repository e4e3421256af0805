import type { DatasetSource, HeadContext, Metrics, TaskContext, TaskPlugin, Tokenizer } from '@xlt/core';
import { conllNerFormat, parseConllNer, wikiannFormat } from './conll-ner-reader.js';
import { collateTagging, decodeTagging, featurizeTagging, type TaggingFeature } from './features.js';
import { isNerTag, nerLabelSpace } from './labels.js';
import { parseTaggingOptions, taggingOptionsSchema } from './options.js';
import { formatTagPredictions, parseTagPredictions } from './predictions.js';
import { readWithFormat } from './read-source.js';
import { nerScores } from './scoring.js';
import type { TaggedSentence, TagPrediction } from './tagged-sentence.js';
import { createTokenClassificationHead } from './token-classification-head.js';

/**
 * Named-entity recognition on CoNLL-style files (WikiANN/PAN-X, MasakhaNER, CoNLL-2003 layout): token
 * classification over IOB2 tags from the training set, scored by seqeval's entity-level micro F1 in percent.
 */
export const nerTask: TaskPlugin<TaggedSentence, TaggingFeature, TagPrediction> = {
  id: 'ner',
  description: 'NER (WikiANN, MasakhaNER; IOB2), seqeval entity F1',
  optionsSchema: taggingOptionsSchema,
  primaryMetric: 'f1',
  formats: [wikiannFormat, conllNerFormat],
  async read(source: DatasetSource, options: Record<string, unknown>): Promise<TaggedSentence[]> {
    const { languagePrefix } = parseTaggingOptions(options);
    const { text, format } = await readWithFormat(source, nerTask.formats);
    return parseConllNer(text, source.path, { separator: format.id === wikiannFormat.id ? '\t' : ' ', languagePrefix });
  },
  labelSpace(train: readonly TaggedSentence[]): string[] {
    return nerLabelSpace(train.map((s) => s.tags));
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
    // A cut-off word is predicted outside any entity: it cannot create a spurious one.
    const fallback = parseTaggingOptions(context.options).truncatedTag ?? 'O';
    return decodeTagging(logits, features, examples, context.labels, fallback);
  },
  score(examples, predictions, context): Metrics {
    return nerScores(examples, predictions, context.labels);
  },
  formatPredictions(predictions, examples) {
    return formatTagPredictions(predictions, examples);
  },
  parsePredictions(text, file, examples) {
    return parseTagPredictions(text, file, examples, isNerTag, 'a tag O, B-TYPE or I-TYPE');
  },
};
