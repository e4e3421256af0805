/**
 * `@xlt/tasks-qa`: the `qa` task plugin for xlt. Extractive question answering on SQuAD v1.1 JSON (SQuAD,
 * XQuAD, MLQA, TyDiQA-GoldP): reader, windows over long contexts, the `qa_outputs` span head, n-best decoding and
 * EM/F1 exactly as the official SQuAD v1.1 and MLQA evaluation scripts.
 * @packageDocumentation
 */
import { ContainerModule } from 'inversify';
import { TaskPlugin } from '@xlt/plugin-api';
import { QaTask } from './qa-task.js';

export type { QaAnswer, QaBenchmark, QaExample } from './qa-example.js';
export { readSquadJson, parseSquadJson, squadJsonFormat, type SquadReadOptions } from './squad-reader.js';
export { parseJsonText, findJsonSyntaxError, lineColumnAt, type JsonSyntaxProblem } from './json-text.js';
export { featurizeQa, contextWindows, DEFAULT_WINDOW_OPTIONS, type QaFeature, type QaWindowOptions } from './qa-features.js';
export { nBestAnswers, decodeAnswers, DEFAULT_NBEST_OPTIONS, type AnswerCandidate, type NBestOptions } from './nbest.js';
export { createQaHead, qaLoss, QA_TARGETS } from './qa-head.js';
export { squadScores, mlqaScores, tokenF1, type QaScores } from './qa-metrics.js';
export {
  normalizeSquadAnswer,
  normalizeMlqaAnswer,
  mixedSegmentation,
  pythonSplit,
  MLQA_LANGUAGES,
  ASCII_PUNCTUATION,
} from './answer-normalization.js';
export { formatSquadPredictions, parseSquadPredictions } from './predictions.js';
export { qaOptionsSchema, parseQaOptions, type QaOptions } from './qa-options.js';
export { QaTask, resolveQaMetric } from './qa-task.js';

/** The container module of this package: binds the `qa` task to the core {@link TaskPlugin} extension point. */
export const qaModule = new ContainerModule(({ bind }) => {
  bind(TaskPlugin).toConstantValue(new QaTask());
});
