import type { DatasetSource, Metrics, TaskPlugin } from '@xlt/plugin-api';
import { conllNerFormat, parseConllNer, wikiannFormat } from './conll-ner-reader.js';
import type { TaggingFeature } from './features.js';
import { isNerTag, nerLabelSpace } from './labels.js';
import { parseTaggingOptions } from './options.js';
import { readWithFormat } from './read-source.js';
import { nerScores } from './scoring.js';
import type { TaggedSentence, TagPrediction } from './tagged-sentence.js';
import { taggingTaskParts } from './tagging-task.js';

/**
 * Named-entity recognition on CoNLL-style files (WikiANN/PAN-X, MasakhaNER, CoNLL-2003 layout): token
 * classification over IOB2 tags from the training set, scored by seqeval's entity-level micro F1 in percent.
 */
export const nerTask: TaskPlugin<TaggedSentence, TaggingFeature, TagPrediction> = {
  id: 'ner',
  description: 'NER (WikiANN, MasakhaNER; IOB2), seqeval entity F1',
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
  // A cut-off word is predicted outside any entity: it cannot create a spurious one.
  ...taggingTaskParts({ truncatedTag: 'O', isTag: isNerTag, expected: 'a tag O, B-TYPE or I-TYPE' }),
  score(examples, predictions, context): Metrics {
    return nerScores(examples, predictions, context.labels);
  },
};
