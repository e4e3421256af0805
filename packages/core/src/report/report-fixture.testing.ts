import { type ResultRecord, seededRandom } from '@xlt/plugin-api';
import type { RunCheckpointScores } from './checkpoint-scores.js';

/** Runs of the fixture grid: 2 learning rates x 2 seeds. */
export const FIXTURE_RUNS = ['lr=2e-05_seed=1', 'lr=2e-05_seed=2', 'lr=5e-05_seed=1', 'lr=5e-05_seed=2'];
/** Target languages of the fixture. */
export const FIXTURE_LANGUAGES = ['de', 'ru', 'zh'];

const hyper = (run: string) => {
  const [lr, seed] = run.split('_').map((p) => p.split('=')[1]!);
  return { learningRate: Number(lr), seed: Number(seed) };
};

/**
 * Results of a 2x2 grid (learning rate x seed) for report tests: last, checkpoint averaging, run averaging per
 * learning rate (`runGroups: seeds`) and the target-dev oracle on 3 languages, with `accuracy` (noisy) and the
 * count `unseen_labels` (per language, the same for every model).
 */
export function fixtureRecords(): ResultRecord[] {
  const random = seededRandom(3);
  const out: ResultRecord[] = [];
  const strategies: [string, number, boolean, boolean][] = [['last', 60, false, false], ['checkpoint-average', 63, false, false], ['run-average', 64, false, true], ['oracle-target-dev', 67, true, false]];
  for (const [strategy, base, oracle, across] of strategies) {
    const models = across ? ['lr=2e-05', 'lr=5e-05'].map((g) => [g, { learningRate: Number(g.slice(3)) }] as const) : FIXTURE_RUNS.map((r) => [r, hyper(r)] as const);
    for (const [run, hyperparameters] of models) {
      for (const [language, shift] of [['de', 0], ['ru', -6], ['zh', -15]] as const) {
        const common = { experiment: 'report <test>', task: 'pos', run, strategy, strategyId: strategy, language, oracle, hyperparameters };
        out.push({ ...common, metric: 'accuracy', value: base + shift + 8 * (random() - 0.5) + (hyperparameters.learningRate > 3e-5 ? 2 : 0) });
        out.push({ ...common, metric: 'unseen_labels', value: { de: 0, ru: 3, zh: 12 }[language] });
      }
    }
  }
  return out;
}

/** Per-checkpoint target-dev accuracy of the fixture's runs: 3 checkpoints (steps 10, 20, 30), rising then falling. */
export function fixtureCheckpointScores(): RunCheckpointScores[] {
  const random = seededRandom(5);
  return FIXTURE_RUNS.map((run) => ({
    run,
    hyperparameters: hyper(run),
    checkpoints: [10, 20, 30].map((step, k) => ({
      step,
      targetDev: Object.fromEntries(FIXTURE_LANGUAGES.map((l, i) => [l, { accuracy: 50 - 5 * i + [0, 6, 4][k]! + 4 * random(), unseen_labels: i }])),
    })),
  }));
}
