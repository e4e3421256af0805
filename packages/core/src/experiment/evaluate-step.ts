import { type Metrics, writeFileAtomic } from '@xlt/plugin-api';
import type { ExperimentContext } from './experiment-context.js';
import { readMarker, writeMarker } from './layout.js';
import { scoreModel } from './score-model.js';

/** The `metrics.json` of one evaluation, written after its `predictions.txt`. */
export interface EvaluationMarker {
  readonly strategy: string;
  readonly run: string;
  readonly language: string;
  readonly oracle: boolean;
  readonly examples: number;
  readonly metrics: Metrics;
}

/**
 * Evaluates one strategy model on one target language's test data (or finds the evaluation done): writes the
 * predictions in the task's own format, the one `xlt score --pred` reads, then the metrics.
 */
export async function ensureEvaluation(ctx: ExperimentContext, strategy: string, oracle: boolean, run: string, language: string, model: string): Promise<EvaluationMarker> {
  const file = ctx.layout.metrics(strategy, run, language);
  const existing = await readMarker<EvaluationMarker>(file);
  if (existing) return existing;
  const target = ctx.data.targets.find((t) => t.language === language)!;
  const { predictions, metrics } = await scoreModel(ctx, model, target.test, language);
  await writeFileAtomic(ctx.layout.predictions(strategy, run, language), ctx.task.formatPredictions(predictions, target.test));
  const marker: EvaluationMarker = { strategy, run, language, oracle, examples: target.test.length, metrics };
  await writeMarker(file, marker);
  return marker;
}
