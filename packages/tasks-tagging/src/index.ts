/**
 * `@xlt/tasks-tagging`: the `pos` (UD CoNLL-U, UPOS accuracy) and `ner` (WikiANN, MasakhaNER; seqeval entity F1)
 * task plugins, their readers, the token classification head and seqeval-identical metrics.
 * @packageDocumentation
 */
import { TaskPlugin } from '@xlt/plugin-api';
import { ContainerModule } from 'inversify';
import { nerTask } from './ner-task.js';
import { posTask } from './pos-task.js';

export { type TaggedSentence, type TagPrediction } from './tagged-sentence.js';
export { UPOS_TAGS, isUpos, isNerTag, entityType, nerLabelSpace } from './labels.js';
export { conlluFormat, parseConllu } from './conllu-reader.js';
export {
  wikiannFormat,
  conllNerFormat,
  parseConllNer,
  type LanguagePrefixMode,
  type ConllNerOptions,
} from './conll-ner-reader.js';
export { taggingOptionsSchema, parseTaggingOptions, type TaggingOptions } from './options.js';
export { IGNORE_LABEL, featurizeTagging, collateTagging, decodeTagging, type TaggingFeature } from './features.js';
export { createTokenClassificationHead } from './token-classification-head.js';
export {
  getEntities,
  getStrictIob2Entities,
  seqevalScores,
  tagAccuracy,
  type Entity,
  type PrfScore,
  type SeqevalScores,
  type SeqevalMode,
} from './seqeval.js';
export { countUnseenLabels, posScores, nerScores } from './scoring.js';
export { checkPredictionShape, formatTagPredictions, parseTagPredictions } from './predictions.js';
export { readWithFormat } from './read-source.js';
export { posTask, POS_TRUNCATED_TAG } from './pos-task.js';
export { nerTask } from './ner-task.js';

/** The container module of this package: binds the `pos` and `ner` tasks to the core {@link TaskPlugin} point. */
export const taggingModule = new ContainerModule(({ bind }) => {
  bind(TaskPlugin).toConstantValue(posTask);
  bind(TaskPlugin).toConstantValue(nerTask);
});
