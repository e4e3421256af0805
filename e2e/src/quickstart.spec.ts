import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '@xlt/plugin-api/testing';
import { repoRoot } from './pack.js';
import { xlt as runXlt, type Outcome } from './run-xlt.js';

/** The synthetic target languages the quickstart promises (README: "a small synthetic benchmark"). */
const TARGETS = ['syn-near', 'syn-mid', 'syn-far'];

const xlt = (args: readonly string[], env: NodeJS.ProcessEnv) => runXlt(args, 600_000, env);

interface ResultsJson {
  readonly records: readonly { strategy: string; run: string; language: string; metric: string; value: number }[];
  readonly summary: Record<string, readonly { strategy: string; perLanguage: Record<string, number> }[]>;
}

describe('xlt quickstart (offline, no ../shared)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let outcome: Outcome;
  let resultsDir: string;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('xlt-quickstart-e2e-'));
    // A shared folder that does not exist: the quickstart must not need one.
    const env = { ...process.env, XLT_SHARED: join(dir, 'no-shared-here') };
    outcome = await xlt(['quickstart', '--out', join(dir, 'qs')], env);
    const printed = /Report: (\S+report\.html)/.exec(outcome.stdout)?.[1];
    resultsDir = printed === undefined ? '' : dirname(resolve(repoRoot, printed));
  }, 600_000);
  afterAll(() => cleanup());

  it('exits 0 and prints where the results are, inside the --out folder', () => {
    expect(outcome.code, outcome.stderr.slice(-2000)).toBe(0);
    expect(resultsDir, `no "Report: ..." line in stdout:\n${outcome.stdout.slice(-2000)}`).not.toBe('');
    expect(resultsDir.startsWith(join(dir, 'qs'))).toBe(true);
    expect(outcome.stdout).toContain(`Results: ${join(resultsDir, 'results.csv')}`);
  });

  it('writes results.json, results.csv and report.html in the printed results folder', async () => {
    for (const f of ['results.json', 'results.csv', 'report.html']) expect(existsSync(join(resultsDir, f)), f).toBe(true);
    const html = await readFile(join(resultsDir, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    for (const language of TARGETS) expect(html).toContain(language);
  });

  it('evaluates every strategy of results.json on each of the 3 synthetic target languages', async () => {
    const results = JSON.parse(await readFile(join(resultsDir, 'results.json'), 'utf8')) as ResultsJson;
    const accuracy = results.records.filter((r) => r.metric === 'accuracy');
    const strategies = [...new Set(results.records.map((r) => r.strategy))].sort();
    // The defaults: every non-optioned strategy of @xlt/averaging, the oracle included as a reference.
    expect(strategies).toEqual(expect.arrayContaining(['checkpoint-average', 'checkpoint-run-average', 'last', 'oracle-target-dev', 'run-average']));
    expect(results.summary['accuracy']!.map((s) => s.strategy).sort()).toEqual(strategies);

    // The run log names the same strategies and targets the results hold.
    const announced = /strategies (.+), targets (.+) ->/.exec(outcome.stderr);
    expect(announced, 'the run announces its strategies and targets on stderr').not.toBeNull();
    expect(announced![1]!.split(', ').sort()).toEqual(strategies);
    expect(announced![2]!.split(', ')).toEqual(TARGETS);

    for (const strategy of strategies) {
      const mine = accuracy.filter((r) => r.strategy === strategy);
      expect(new Set(mine.map((r) => r.language)), strategy).toEqual(new Set(TARGETS));
      // Each model (a run, or `all` for across-run strategies) has exactly one row per target language.
      for (const run of new Set(mine.map((r) => r.run))) {
        expect(mine.filter((r) => r.run === run).map((r) => r.language).sort(), `${strategy} ${run}`).toEqual([...TARGETS].sort());
      }
      for (const r of mine) {
        expect(r.value, `${strategy} ${r.run} ${r.language}`).toBeGreaterThanOrEqual(0);
        expect(r.value, `${strategy} ${r.run} ${r.language}`).toBeLessThanOrEqual(100);
      }
      const summary = results.summary['accuracy']!.find((s) => s.strategy === strategy)!;
      expect(Object.keys(summary.perLanguage).sort()).toEqual([...TARGETS].sort());
    }
  });

  it('writes one CSV row per record, with every strategy x target language', async () => {
    const results = JSON.parse(await readFile(join(resultsDir, 'results.json'), 'utf8')) as ResultsJson;
    const lines = (await readFile(join(resultsDir, 'results.csv'), 'utf8')).trim().split('\n');
    const header = lines[0]!.split(',');
    expect(header.slice(0, 7)).toEqual(['experiment', 'task', 'run', 'strategy', 'language', 'metric', 'value']);
    expect(lines.length - 1).toBe(results.records.length);
    const seen = new Set(lines.slice(1).map((l) => l.split(',')).filter((c) => c[5] === 'accuracy').map((c) => `${c[3]}|${c[4]}`));
    for (const strategy of new Set(results.records.map((r) => r.strategy))) {
      for (const language of TARGETS) expect(seen.has(`${strategy}|${language}`), `${strategy} ${language}`).toBe(true);
    }
  });

  it('says the data is SYNTHETIC and how to run the real examples', () => {
    const all = `${outcome.stdout}\n${outcome.stderr}`;
    expect(all).toContain('SYNTHETIC');
    const examples = [...all.matchAll(/npx xlt run (examples\/[\w.-]+\.json)/g)].map((m) => m[1]!);
    expect(examples.length).toBeGreaterThan(0);
    // The commands it suggests must work from a clone: the example configs exist.
    for (const example of examples) expect(existsSync(join(repoRoot, example)), example).toBe(true);
  });
});
