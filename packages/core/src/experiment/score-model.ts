import { XltError, type Metrics } from '@xlt/plugin-api';
import type { ExperimentContext } from './experiment-context.js';

/** Scores one model folder on examples of one language with the task's metric. */
export async function scoreModel(ctx: ExperimentContext, model: string, examples: readonly unknown[], language: string): Promise<{ predictions: unknown[]; metrics: Metrics }> {
  const predictions = await ctx.services.predict({
    task: ctx.task,
    taskOptions: ctx.taskOptions,
    model,
    backend: ctx.config.backend,
    ...(ctx.config.tokenizer ? { tokenizer: ctx.config.tokenizer } : {}),
    examples,
    labels: ctx.labels,
    language,
    maxLength: ctx.config.training.maxLength,
    batchSize: ctx.config.training.evalBatchSize,
  });
  if (predictions.length !== examples.length) {
    throw new XltError(`Predicting with ${model} gave ${predictions.length} predictions for ${examples.length} ${language} examples.`);
  }
  const metrics = ctx.task.score(examples, predictions, { labels: ctx.labels, maxLength: ctx.config.training.maxLength, options: ctx.taskOptions, language });
  return { predictions, metrics };
}
