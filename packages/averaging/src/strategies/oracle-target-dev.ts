import {
  XltError,
  type AveragingStrategy,
  type CheckpointInfo,
  type RunInfo,
  type StrategyContext,
  type WeightedCheckpoint,
} from '@xlt/plugin-api';
import { z } from 'zod';
import { argmax, singleRun } from './plan-helpers.js';

const schema = z.strictObject({
  metric: z.string().min(1).optional().describe("metric to rank by; default: the task's primary metric"),
  language: z.string().min(1).optional().describe('target language whose dev data picks the checkpoint; default: the context language, else the mean over all'),
});

/**
 * `oracle-target-dev`: the checkpoint that scores best on **target-language** dev data. An ORACLE: true
 * zero-shot transfer has no target-language data, so its results are an upper bound that reports must mark,
 * never a ZS-XLT result.
 */
export class OracleTargetDevStrategy implements AveragingStrategy<z.infer<typeof schema>> {
  readonly id = 'oracle-target-dev';
  readonly description =
    'ORACLE (not zero-shot): select the checkpoint of each run with the best target-language dev score; true ZS-XLT cannot use it';
  readonly scope = 'per-run' as const;
  readonly oracle = true;
  readonly optionsSchema = schema;

  async plan(runs: readonly RunInfo[], options: z.infer<typeof schema>, context: StrategyContext): Promise<WeightedCheckpoint[]> {
    const run = singleRun(runs, this.id);
    const metric = options.metric ?? context.primaryMetric;
    const language = options.language ?? context.targetLanguage;
    const score = (c: CheckpointInfo): number => {
      const byLanguage = c.targetDev ?? {};
      const languages = language !== undefined ? [language] : Object.keys(byLanguage).sort();
      const values = languages.map((l) => byLanguage[l]?.[metric]);
      if (languages.length === 0 || values.some((v) => typeof v !== 'number' || Number.isNaN(v))) {
        throw new XltError(
          `Strategy "${this.id}" needs target-dev "${metric}"${language ? ` for language "${language}"` : ''}, but checkpoint ${c.path} ` +
            `(run "${c.run}", step ${c.step}) has ${languages.length ? `target-dev for ${Object.keys(byLanguage).join(', ') || 'no language'}` : 'no target-dev score'}`,
        );
      }
      return (values as number[]).reduce((a, b) => a + b, 0) / values.length;
    };
    return [{ checkpoint: argmax(run.checkpoints, score), weight: 1 }];
  }
}
