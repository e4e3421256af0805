import type { DatasetSource, Metrics, TaskPlugin } from '@xlt/plugin-api';
import { conlluFormat, parseConllu } from './conllu-reader.js';
import type { TaggingFeature } from './features.js';
import { isUpos, UPOS_TAGS } from './labels.js';
import { readWithFormat } from './read-source.js';
import { posScores } from './scoring.js';
import type { TaggedSentence, TagPrediction } from './tagged-sentence.js';
import { taggingTaskParts } from './tagging-task.js';

/** Default tag of words cut off by truncation: the most frequent UPOS in EWT train and in every PUD test set. */
export const POS_TRUNCATED_TAG = 'NOUN';

/**
 * Part-of-speech tagging on Universal Dependencies (CoNLL-U, UPOS), XTREME's udpos: token classification over the
 * 17 UPOS tags, scored by word accuracy in percent.
 */
export const posTask: TaskPlugin<TaggedSentence, TaggingFeature, TagPrediction> = {
  id: 'pos',
  description: 'POS tagging (UD CoNLL-U, 17 UPOS tags), word accuracy',
  primaryMetric: 'accuracy',
  formats: [conlluFormat],
  async read(source: DatasetSource): Promise<TaggedSentence[]> {
    const { text } = await readWithFormat(source, posTask.formats);
    return parseConllu(text, source.path);
  },
  labelSpace(): string[] {
    return [...UPOS_TAGS];
  },
  ...taggingTaskParts({ truncatedTag: POS_TRUNCATED_TAG, isTag: isUpos, expected: `a UPOS tag (${UPOS_TAGS.join(' ')})` }),
  score(examples, predictions, context): Metrics {
    return posScores(examples, predictions, context.labels);
  },
};
