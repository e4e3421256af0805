import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coreModule, engineServices, runExperiment } from '@xlt/core';
import { createEngine } from '@xlt/plugin-api';
import { sharedPath, tempDir } from '@xlt/plugin-api/testing';
import { taggingModule } from '@xlt/tasks-tagging';
import { averagingModule } from '@xlt/averaging';

/** The engine the CLI would build with the tagging and averaging packages installed. */
async function engineWithPlugins() {
  return createEngine([coreModule, taggingModule, averagingModule]);
}

describe('xlt run on real data (POS: UD EWT -> PUD, tiny-multilingual-bert)', () => {
  it('runs 2 learning rates x 2 seeds and evaluates every strategy on every language', async () => {
    const { dir, cleanup } = await tempDir('xlt-experiment-data-');
    try {
      const languages = ['de', 'ru', 'zh'];
      const config = {
        name: 'pos-ewt-pud-data-test',
        task: 'pos',
        model: sharedPath('models', 'tiny-multilingual-bert'),
        source: { language: 'en', train: sharedPath('data', 'pos', 'en_ewt-ud-train.part1.conllu.gz'), dev: sharedPath('data', 'pos', 'en_ewt-ud-dev.conllu.gz') },
        targets: Object.fromEntries(languages.map((l) => [l, { test: sharedPath('data', 'pos', `${l}_pud-ud-test.conllu.gz`) }])),
        grid: { learningRate: [1e-3, 2e-3], batchSize: [16], epochs: [2], warmup: [0.1], seeds: [1, 2] },
        training: { maxLength: 96, maxTrainExamples: 200, maxEvalExamples: 50, evalBatchSize: 64 },
        checkpoints: { perEpoch: 2 },
        output: 'out',
      };
      const file = join(dir, 'experiment.json');
      await writeFile(file, JSON.stringify(config, null, 2));
      const engine = await engineWithPlugins();
      const outcome = await runExperiment(file, { engine, services: engineServices(engine, { log: () => {} }), print: () => {} });

      const strategies = [...new Set(outcome.records.map((r) => r.strategy))].sort();
      const expected = engine.strategies.all().filter((s) => !s.oracle && (!s.optionsSchema || s.optionsSchema.safeParse({}).success)).map((s) => s.id).sort();
      expect(strategies).toEqual(expected);
      for (const strategy of strategies) {
        const rows = outcome.records.filter((r) => r.strategy === strategy && r.metric === 'accuracy');
        expect(new Set(rows.map((r) => r.language))).toEqual(new Set(languages));
        const scope = engine.strategies.get(strategy).scope;
        // runGroups "seeds" (the default): across-run strategies make one model per learning rate, over its 2 seeds.
        expect(new Set(rows.map((r) => r.run)).size).toBe(scope === 'per-run' ? 4 : 2);
        for (const r of rows) {
          expect(existsSync(join(dir, 'out', 'eval', strategy, r.run, r.language, 'predictions.txt'))).toBe(true);
          expect(r.value).toBeGreaterThan(10); // well above an empty model (17 tags), far below perfection at this size
          expect(r.value).toBeLessThan(100);
        }
      }
      for (const f of ['results.json', 'results.csv', 'report.html']) expect(existsSync(join(dir, 'out', f))).toBe(true);
      const csv = await readFile(join(dir, 'out', 'results.csv'), 'utf8');
      expect(csv.split('\n')[0]).toContain('experiment,task,run,strategy,language,metric,value,oracle,learningRate');
    } finally {
      await cleanup();
    }
  });
});
