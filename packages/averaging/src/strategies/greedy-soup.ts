import { XltError, type AveragingStrategy, type RunInfo, type StrategyContext, type WeightedCheckpoint } from '@xlt/plugin-api';
import { z } from 'zod';
import { someRuns, sourceDevScore, uniform } from './plan-helpers.js';

const schema = z.strictObject({
  metric: z.string().min(1).optional().describe("metric to rank and accept by; default: the task's primary metric"),
  candidates: z.enum(['all', 'final']).default('all').describe('"all" checkpoints of all runs, or only the "final" one of each run'),
});

/**
 * `greedy-soup` (Wortsman et al., 2022): candidates sorted by source-dev score, best first; each is added to the
 * soup only if the uniform average with it does not score lower on source-dev data. Needs
 * `context.evaluateSourceDev`.
 */
export class GreedySoupStrategy implements AveragingStrategy<z.input<typeof schema>> {
  readonly id = 'greedy-soup';
  readonly description = 'Greedy soup: add checkpoints best-first by source-dev score while the averaged source-dev score does not drop';
  readonly scope = 'across-runs' as const;
  readonly oracle = false;
  readonly needsSourceDev = true;
  readonly optionsSchema = schema;

  async plan(runs: readonly RunInfo[], options: z.input<typeof schema>, context: StrategyContext): Promise<WeightedCheckpoint[]> {
    const metric = options.metric ?? context.primaryMetric;
    const evaluate = context.evaluateSourceDev;
    if (!evaluate) {
      throw new XltError(`Strategy "${this.id}" evaluates candidate averages on source-dev data, but no source-dev evaluation is available here (run it inside an experiment)`);
    }
    const pool = someRuns(runs, this.id).flatMap((r) => ((options.candidates ?? 'all') === 'final' ? [r.checkpoints.at(-1)!] : r.checkpoints));
    // Stable sort: equal scores keep run/step order, so the plan is deterministic.
    const ranked = pool
      .map((checkpoint, i) => ({ checkpoint, score: sourceDevScore(checkpoint, metric, this.id), i }))
      .sort((a, b) => b.score - a.score || a.i - b.i)
      .map((c) => c.checkpoint);
    const soup = [ranked[0]!];
    let best = sourceDevScore(ranked[0]!, metric, this.id);
    for (const candidate of ranked.slice(1)) {
      const score = (await evaluate(uniform([...soup, candidate])))[metric];
      if (typeof score !== 'number' || Number.isNaN(score)) {
        throw new XltError(`Strategy "${this.id}": source-dev evaluation returned no "${metric}" score`);
      }
      if (score >= best) {
        soup.push(candidate);
        best = score;
      }
    }
    return uniform(soup);
  }
}
