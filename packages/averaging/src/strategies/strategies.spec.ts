import type { AveragingStrategy, RunInfo } from '@xlt/plugin-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { conformanceContext, conformanceRuns, runStrategyConformance } from '@xlt/plugin-api/testing';
import {
  BestSourceDevStrategy,
  CheckpointAverageStrategy,
  CheckpointRunAverageStrategy,
  EmaStrategy,
  GreedySoupStrategy,
  LastCheckpointStrategy,
  OracleTargetDevStrategy,
  RunAverageStrategy,
  WeightedStrategy,
  builtinStrategies,
} from './index.js';

const conformanceOptions: Record<string, { options?: Record<string, unknown>; invalidOptions?: unknown[] }> = {
  'checkpoint-average': { options: { fromFraction: 0.5 }, invalidOptions: [{ lastK: 0 }, { fromFraction: 2 }] },
  'checkpoint-run-average': { options: { lastK: 2, weighting: 'run' }, invalidOptions: [{ weighting: 'magic' }] },
  ema: { options: { decay: 0.8 }, invalidOptions: [{ decay: 1 }, { decay: -0.1 }] },
  weighted: { options: { weights: Array.from({ length: 12 }, (_, i) => i % 3) }, invalidOptions: [{}, { weights: [-1] }] },
  'greedy-soup': { invalidOptions: [{ candidates: 'some' }] },
};

const runner = { describe, it, expect, beforeAll };
for (const strategy of builtinStrategies()) runStrategyConformance(strategy, { runner, ...conformanceOptions[strategy.id] });

const plan = (s: AveragingStrategy, runs: RunInfo[], options: Record<string, unknown> = {}) =>
  s.plan(runs, s.optionsSchema!.parse(options) as Record<string, unknown>, conformanceContext());
const summary = async (p: ReturnType<typeof plan>) => (await p).map((w) => [w.checkpoint.path, +w.weight.toFixed(6)]);

describe('built-in strategies choose what the literature means', () => {
  const runs = conformanceRuns();
  const run0 = [runs[0]!];

  it('has nine built-ins with unique ids; only oracle-target-dev is an oracle', () => {
    const all = builtinStrategies();
    expect(new Set(all.map((s) => s.id)).size).toBe(9);
    expect(all.filter((s) => s.oracle).map((s) => s.id)).toEqual(['oracle-target-dev']);
  });

  it('last and best-source-dev select one checkpoint', async () => {
    expect(await summary(plan(new LastCheckpointStrategy(), run0))).toEqual([['/runs/run-0/checkpoint-400', 1]]);
    // run-0 source-dev accuracies by step: 60, 63, 66, 69 -> last is best.
    expect(await summary(plan(new BestSourceDevStrategy(), [runs[1]!]))).toEqual([['/runs/run-1/checkpoint-200', 1]]);
  });

  it('the conformance probe detects target-dev reads (so the oracle check can fail)', async () => {
    const probe = { read: false };
    await new OracleTargetDevStrategy().plan([conformanceRuns(probe)[0]!], {}, conformanceContext());
    expect(probe.read).toBe(true);
  });

  it('oracle-target-dev picks by the target language and differs from source-dev selection', async () => {
    // run-0 target de: 50, 57, 53, 60 -> step 400; sw: 40, 45, 43, 41 -> step 200.
    expect(await summary(plan(new OracleTargetDevStrategy(), run0))).toEqual([['/runs/run-0/checkpoint-400', 1]]);
    expect(await summary(plan(new OracleTargetDevStrategy(), run0, { language: 'sw' }))).toEqual([['/runs/run-0/checkpoint-200', 1]]);
    await expect(plan(new OracleTargetDevStrategy(), run0, { language: 'xx' })).rejects.toThrow(/target-dev "accuracy" for language "xx"/);
  });

  it('checkpoint-average keeps lastK, fromStep and fromFraction checkpoints', async () => {
    const ca = new CheckpointAverageStrategy();
    expect(await summary(plan(ca, run0))).toHaveLength(4);
    expect((await plan(ca, run0, { lastK: 2 })).map((p) => p.checkpoint.step)).toEqual([300, 400]);
    expect((await plan(ca, run0, { fromStep: 200 })).map((p) => p.checkpoint.step)).toEqual([200, 300, 400]);
    expect((await plan(ca, run0, { fromFraction: 0.75 })).map((p) => p.checkpoint.step)).toEqual([300, 400]);
    await expect(plan(ca, run0, { fromStep: 10_000 })).rejects.toThrow(/no checkpoint of run "run-0"/);
  });

  it('run-average takes the final checkpoint of each run; CA+RA all checkpoints', async () => {
    expect(await summary(plan(new RunAverageStrategy(), runs))).toEqual(runs.map((r) => [`/runs/${r.id}/checkpoint-400`, 0.333333]));
    const all = await plan(new CheckpointRunAverageStrategy(), runs);
    expect(all).toHaveLength(12);
    expect(all.every((p) => Math.abs(p.weight - 1 / 12) < 1e-15)).toBe(true);
  });

  it('ema weights are (1-d) d^(n-k), the first d^(n-1)', async () => {
    const weights = (await plan(new EmaStrategy(), run0, { decay: 0.5 })).map((p) => p.weight);
    expect(weights).toEqual([0.125, 0.125, 0.25, 0.5]);
  });

  it('greedy-soup adds a candidate only when the source-dev score does not drop', async () => {
    const context = conformanceContext();
    const soup = new GreedySoupStrategy();
    const result = await soup.plan(runs, { candidates: 'all' }, context);
    // Best single: 68 (run-1 step 200 and run-2 step 100 tie; stable order keeps run-1). The evaluator rewards
    // a +2 bonus minus half the spread, so candidates within 4 points of the best are accepted.
    const scores = result.map((p) => p.checkpoint.sourceDev!.accuracy!);
    expect(Math.max(...scores) - Math.min(...scores)).toBeLessThanOrEqual(4);
    expect(result[0]!.checkpoint.path).toBe('/runs/run-1/checkpoint-200');
    expect(context.evaluations).toBe(11);
    await expect(soup.plan(runs, {}, { primaryMetric: 'accuracy' })).rejects.toThrow(/no source-dev evaluation is available/);
  });

  it('weighted normalises explicit weights and checks their number', async () => {
    const w = new WeightedStrategy();
    expect((await plan(w, run0, { weights: [1, 0, 1, 2] })).map((p) => [p.checkpoint.step, p.weight])).toEqual([[100, 0.25], [300, 0.25], [400, 0.5]]);
    await expect(plan(w, run0, { weights: [1, 2] })).rejects.toThrow(/2 weights given for 4 checkpoints/);
  });
});
