import type { AveragingStrategy, RunInfo, WeightedCheckpoint } from '../plugins/averaging.js';
import type { TestApi } from './test-api.js';
import { conformanceContext, conformanceRuns, type TargetDevProbe } from './strategy-fixtures.js';

/** What the conformance suite needs besides the strategy. */
export interface StrategyConformanceOptions {
  /** The runner's test functions: `{ describe, it, expect, beforeAll }` from vitest (or Jest). */
  readonly runner: TestApi;
  /** Valid options for the strategy (the suite plans with them); default `{}`. */
  readonly options?: Record<string, unknown>;
  /** Extra invalid options that the schema must reject, besides the suite's own garbage. */
  readonly invalidOptions?: readonly unknown[];
  /** Runs to plan over; default {@link conformanceRuns}. */
  readonly runs?: () => RunInfo[];
}

function groupsOf(strategy: AveragingStrategy, runs: RunInfo[]): RunInfo[][] {
  return strategy.scope === 'per-run' ? runs.map((r) => [r]) : [runs];
}

function parse(strategy: AveragingStrategy, options: unknown): Record<string, unknown> {
  return (strategy.optionsSchema ? strategy.optionsSchema.parse(options) : options) as Record<string, unknown>;
}

/**
 * Registers, through the caller's test runner, the conformance tests every {@link AveragingStrategy} must pass (built-in or third-party):
 * a well-formed plugin, a schema that rejects garbage, plan weights positive and summing to 1, only the given
 * checkpoints (the same objects, from the planned runs) used, deterministic plans, and the oracle flag honoured
 * (a non-oracle strategy never reads `targetDev`; an oracle says so in its description).
 */
export function runStrategyConformance(strategy: AveragingStrategy, conformance: StrategyConformanceOptions): void {
  const { describe, it, expect } = conformance.runner;
  const makeRuns = conformance.runs ?? (() => conformanceRuns());
  const options = conformance.options ?? {};

  describe(`averaging strategy conformance: ${strategy.id}`, () => {
    it('is a well-formed plugin', () => {
      expect(strategy.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(strategy.description.length).toBeGreaterThan(10);
      expect(['per-run', 'across-runs']).toContain(strategy.scope);
      expect(typeof strategy.oracle).toBe('boolean');
      expect(strategy.optionsSchema, 'strategies declare an options schema').toBeDefined();
    });

    it('accepts its valid options and rejects garbage options', () => {
      expect(strategy.optionsSchema!.safeParse(options).success).toBe(true);
      const garbage: unknown[] = ['garbage', 42, null, [1, 2], { notAnOption: true }, ...(conformance.invalidOptions ?? [])];
      for (const g of garbage) expect(strategy.optionsSchema!.safeParse(g).success, `options ${JSON.stringify(g)}`).toBe(false);
    });

    it('plans weights that are positive and sum to 1, using only the given checkpoints', async () => {
      const runs = makeRuns();
      for (const group of groupsOf(strategy, runs)) {
        const plan = await strategy.plan(group, parse(strategy, options), conformanceContext());
        expect(plan.length).toBeGreaterThan(0);
        const given = new Set(group.flatMap((r) => r.checkpoints));
        for (const p of plan) {
          expect(given.has(p.checkpoint), `checkpoint ${p.checkpoint.path} is one of the given objects`).toBe(true);
          expect(p.weight).toBeGreaterThan(0);
          expect(Number.isFinite(p.weight)).toBe(true);
        }
        expect(Math.abs(plan.reduce((s, p) => s + p.weight, 0) - 1)).toBeLessThan(1e-9);
        expect(new Set(plan.map((p) => p.checkpoint)).size, 'no checkpoint twice').toBe(plan.length);
      }
    });

    it('is deterministic', async () => {
      const summary = (plan: WeightedCheckpoint[]) => plan.map((p) => `${p.checkpoint.path}:${p.weight}`);
      for (const group of groupsOf(strategy, makeRuns())) {
        const a = await strategy.plan(group, parse(strategy, options), conformanceContext());
        const b = await strategy.plan(group, parse(strategy, options), conformanceContext());
        expect(summary(a)).toEqual(summary(b));
      }
    });

    it('honours its oracle flag', async () => {
      const probe: TargetDevProbe = { read: false };
      const runs = conformance.runs ? conformance.runs() : conformanceRuns(probe);
      for (const group of groupsOf(strategy, runs)) await strategy.plan(group, parse(strategy, options), conformanceContext());
      if (strategy.oracle) {
        expect(strategy.description.toLowerCase()).toContain('oracle');
      } else if (!conformance.runs) {
        expect(probe.read, 'a non-oracle strategy must not read target-language dev scores').toBe(false);
      }
    });

    it('fails clearly on no runs', async () => {
      await expect(strategy.plan([], parse(strategy, options), conformanceContext())).rejects.toThrow(/\w/);
    });
  });
}
