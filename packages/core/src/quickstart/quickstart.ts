import { writeFile, mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { type Engine, XltError, withPath } from '@xlt/plugin-api';
import { engineServices } from '../experiment/engine-services.js';
import { runExperiment, type ExperimentOutcome } from '../experiment/runner.js';
import type { ExperimentServices } from '../experiment/services.js';
import { SyntheticBenchmark, toConllu, type SyntheticLanguage } from './synthetic-benchmark.js';
import { writeTinyEncoder } from './tiny-encoder.js';

/** The synthetic target languages: increasingly far from the source in vocabulary and word order. */
export const QUICKSTART_TARGETS: readonly SyntheticLanguage[] = [
  { code: 'syn-near', remapped: 0.2, verbFinal: false, adjectiveAfter: false },
  { code: 'syn-mid', remapped: 0.4, verbFinal: false, adjectiveAfter: true },
  { code: 'syn-far', remapped: 0.6, verbFinal: true, adjectiveAfter: true },
];

/** Options of {@link writeQuickstart} and {@link runQuickstart}. */
export interface QuickstartOptions {
  /** Folder for data, model, config and results. */
  readonly out: string;
  readonly seed?: number;
  /** Source training sentences (default 400). */
  readonly trainSentences?: number;
  /** Sentences per evaluation set (default 150). */
  readonly evalSentences?: number;
  /** Experiment overrides (tests shrink the grid). */
  readonly overrides?: Record<string, unknown>;
}

/**
 * Writes the offline quickstart: a SYNTHETIC POS benchmark in CoNLL-U (source `syn-src`, three derived targets
 * with train, dev and test), a tiny random BERT whose vocabulary covers it, and `experiment.json` running
 * 2 learning rates x 2 seeds with 4 checkpoints per run. Returns the config path.
 */
/** `writeFile` whose errors name the file (a full disk fails in write(2), which has no path). */
const put = (file: string, text: string): Promise<void> => writeFile(file, text).catch((error: unknown) => Promise.reject(withPath(error, file)));

export async function writeQuickstart(options: QuickstartOptions): Promise<string> {
  const out = resolve(options.out);
  const seed = options.seed ?? 13;
  const bench = new SyntheticBenchmark(seed);
  for (const t of QUICKSTART_TARGETS) bench.addLanguage(t);
  const data = join(out, 'data');
  await mkdir(data, { recursive: true });
  const nTrain = options.trainSentences ?? 400;
  const nEval = options.evalSentences ?? 150;
  await put(join(data, 'syn-src-train.conllu'), toConllu(bench.sentences(nTrain, seed + 1), 'syn-src-train'));
  await put(join(data, 'syn-src-dev.conllu'), toConllu(bench.sentences(nEval, seed + 2), 'syn-src-dev'));
  const targets: Record<string, unknown> = {};
  for (const [i, t] of QUICKSTART_TARGETS.entries()) {
    for (const [split, n, s] of [['train', nEval, 10], ['dev', nEval, 20], ['test', nEval, 30]] as const) {
      await put(join(data, `${t.code}-${split}.conllu`), toConllu(bench.sentences(n, seed + s + i, t), `${t.code}-${split}`));
    }
    targets[t.code] = { test: `data/${t.code}-test.conllu`, dev: `data/${t.code}-dev.conllu`, train: `data/${t.code}-train.conllu` };
  }
  await writeTinyEncoder(join(out, 'tiny-random-bert'), bench.vocabulary(), seed);
  const config = {
    name: 'quickstart-synthetic-pos',
    task: 'pos',
    model: 'tiny-random-bert',
    source: { language: 'syn-src', train: 'data/syn-src-train.conllu', dev: 'data/syn-src-dev.conllu' },
    targets,
    grid: { learningRate: [3e-3, 1e-3], batchSize: [16], epochs: [2], schedule: ['linear'], warmup: [0.1], seeds: [1, 2] },
    training: { maxLength: 48, evalBatchSize: 64 },
    checkpoints: { perEpoch: 2 },
    output: 'results',
    ...options.overrides,
  };
  const file = join(out, 'experiment.json');
  await put(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

/**
 * `xlt quickstart`: writes the synthetic benchmark and runs the whole protocol on it on the CPU, with no network
 * and no data files, then says how to run the real examples. Re-running continues where it stopped.
 */
export async function runQuickstart(engine: Engine, options: QuickstartOptions & { services?: ExperimentServices; print?: (t: string) => void; stderr?: (t: string) => void }): Promise<ExperimentOutcome> {
  if (!engine.tasks.has('pos')) throw new XltError('The quickstart needs the "pos" task: install @xlt/tasks-tagging (or load it with --plugin).');
  const print = options.print ?? ((t: string) => process.stdout.write(t));
  const stderr = options.stderr ?? ((t: string) => process.stderr.write(t));
  stderr('[xlt] quickstart: writing a SYNTHETIC POS benchmark (a toy grammar, not real languages), a tiny random BERT and an experiment config\n');
  const config = await writeQuickstart(options);
  const outcome = await runExperiment(config, { engine, services: options.services ?? engineServices(engine), print, stderr });
  const shown = (p: string) => (relative(process.cwd(), p).startsWith('..') ? p : relative(process.cwd(), p) || '.');
  const rel = shown(outcome.outDir);
  print(
    `\nThe numbers above are on SYNTHETIC data: they show the pipeline and the effect of averaging, not real-language results.\n` +
      `Report: ${join(rel, 'report.html')}  Results: ${join(rel, 'results.csv')}  Config: ${shown(config)}\n` +
      `Real experiments: npx xlt run examples/<file>, e.g. npx xlt run examples/small-pos-ewt-pud.json (needs ../shared) or examples/pos-udpos-mbert.json.\n`,
  );
  return outcome;
}
