/**
 * `@xlt/tasks-tagging`: the `pos` (UD CoNLL-U, UPOS accuracy) and `ner` (WikiANN, MasakhaNER; seqeval entity F1)
 * task plugins, their readers, the token classification head and seqeval-identical metrics.
 * @packageDocumentation
 */
import { TaskPlugin } from '@xlt/plugin-api';
import { ContainerModule } from 'inversify';
import { nerTask } from './ner-task.js';
import { posTask } from './pos-task.js';

export * from './tagged-sentence.js';
export * from './labels.js';
export * from './conllu-reader.js';
export * from './conll-ner-reader.js';
export * from './options.js';
export * from './features.js';
export * from './token-classification-head.js';
export * from './seqeval.js';
export * from './scoring.js';
export * from './predictions.js';
export { readWithFormat } from './read-source.js';
export { posTask, POS_TRUNCATED_TAG } from './pos-task.js';
export { nerTask } from './ner-task.js';

/** The container module of this package: binds the `pos` and `ner` tasks to the core {@link TaskPlugin} point. */
export const taggingModule = new ContainerModule(({ bind }) => {
  bind(TaskPlugin).toConstantValue(posTask);
  bind(TaskPlugin).toConstantValue(nerTask);
});
