import { join } from 'node:path';
import { ContainerModule } from 'inversify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AveragingStrategy,
  CheckpointMerger,
  createEngine,
  TaskPlugin,
  TokenizerProvider,
  Trainer,
  type Engine,
  type Tokenizer,
  type WeightedCheckpoint,
} from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { buildProgram } from '../cli/program.js';
import { coreModule } from '../core-module.js';
import { loadTokenizer } from '../tokenizer/load-tokenizer.js';
import { train } from '../trainer/train.js';
import type { TrainingJob } from '../trainer/training-job.js';
import type { Feature } from '@xlt/plugin-api';
import { tensorMerger } from './testing/tensor-merger.js';
import { tinyTextTask, writeTinyTextExperiment } from './testing/tiny-text-task.js';
import { toyStrategies } from './testing/toy-strategies.js';

/** What the fake plugins saw: the proof that `xlt run` went through the registries, not around them. */
interface Seen {
  readonly tokenizerFolders: string[];
  /** Languages of the data sets featurized (`train` for training data), one entry per `featurize` call. */
  readonly featurized: string[];
  readonly trainedRuns: string[];
  readonly mergedPlans: WeightedCheckpoint[][];
  readonly prefixPlans: WeightedCheckpoint[][];
}

/**
 * A tokenizer provider, a trainer and a merger that record each call and then do the real work (core's tokenizer
 * loader, core's `train`, a float64 tensor mean), so the experiment still produces real checkpoints and models.
 */
function recordingModule(seen: Seen): ContainerModule {
  const tokenizer: TokenizerProvider = {
    id: 'recording-tokenizer',
    description: 'core tokenizer loading, recording each model folder',
    canLoad: async () => false, // only used when named: proves the config's id is honoured, not the first fit
    async load(folder: string): Promise<Tokenizer> {
      seen.tokenizerFolders.push(folder);
      return loadTokenizer(folder);
    },
  };
  const trainer: Trainer<TrainingJob<Feature>, unknown> = {
    id: 'recording-trainer',
    description: 'core train, recording each run',
    train(job) {
      seen.trainedRuns.push(job.runId!);
      return train(job);
    },
  };
  const merger: CheckpointMerger = {
    id: 'recording-merger',
    description: 'float64 mean, recording each plan',
    merge(plan, outDir) {
      // Averages of a run's first k checkpoints for the source-dev trajectory go to models/.scratch.
      (outDir.includes('.scratch') ? seen.prefixPlans : seen.mergedPlans).push([...plan]);
      return tensorMerger.merge(plan, outDir);
    },
  };
  return new ContainerModule(({ bind }) => {
    bind(TaskPlugin).toConstantValue({
      ...tinyTextTask,
      featurize(examples, tok, context) {
        seen.featurized.push(context.language ?? 'train');
        return tinyTextTask.featurize(examples, tok, context);
      },
    } satisfies typeof tinyTextTask);
    for (const s of toyStrategies) bind(AveragingStrategy).toConstantValue(s);
    bind(TokenizerProvider).toConstantValue(tokenizer);
    bind(Trainer).toConstantValue(trainer);
    bind(CheckpointMerger).toConstantValue(merger);
  });
}

const plugins = { tokenizer: 'recording-tokenizer', trainer: 'recording-trainer', merger: 'recording-merger' };

describe('xlt run takes the tokenizer provider, trainer and merger from the registries, by the ids the config names', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let engine: Engine;
  const seen: Seen = { tokenizerFolders: [], featurized: [], trainedRuns: [], mergedPlans: [], prefixPlans: [] };
  const silent = { write: () => true } as unknown as NodeJS.WriteStream;
  let stderr: typeof process.stderr.write;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('xlt-extension-points-'));
    engine = await createEngine([coreModule, recordingModule(seen)]);
    const config = await writeTinyTextExperiment(dir, { ...plugins, grid: { learningRate: [1e-3], batchSize: [8], epochs: [1], schedule: ['linear'], warmup: [0], seeds: [1, 2] } });
    stderr = process.stderr.write;
    process.stderr.write = silent.write;
    const stdout = process.stdout.write;
    process.stdout.write = silent.write;
    try {
      await buildProgram(engine).parseAsync(['run', config, '--out', join(dir, 'out')], { from: 'user' });
    } finally {
      process.stderr.write = stderr;
      process.stdout.write = stdout;
    }
  });
  afterAll(() => cleanup());

  it('trains every run of the grid with the named trainer', () => {
    expect(seen.trainedRuns).toHaveLength(2);
    expect(seen.trainedRuns.every((id) => /seed=[12]$/.test(id))).toBe(true);
  });

  it('loads the tokenizer with the named provider once: checkpoints and averages carry the same tokenizer files', () => {
    expect(seen.tokenizerFolders).toEqual([join(dir, 'model')]);
  });

  it('featurizes each data set once, though the head phase, 2 runs, 6 checkpoints and 5 models use them', () => {
    // source train (head phase and both runs), source dev (each checkpoint), and each target's test set
    expect([...seen.featurized].sort()).toEqual(['en', 'train', 'xx', 'yy']);
  });

  it('builds the averaged models with the named merger: one plan per run for CA, one across runs for RA', () => {
    const sizes = seen.mergedPlans.map((p) => p.length).sort();
    // CA: 3 checkpoints per run, 2 runs; RA: the 2 final checkpoints.
    expect(sizes).toEqual([2, 3, 3]);
    // The targets have no dev data: each run also averages its first 2 and first 3 checkpoints, for the trajectory.
    expect(seen.prefixPlans.map((p) => p.length).sort()).toEqual([2, 2, 3, 3]);
    for (const plan of seen.mergedPlans) expect(plan.reduce((s, p) => s + p.weight, 0)).toBeCloseTo(1, 12);
  });

  it('refuses an unknown trainer, tokenizer or merger id before training, listing the known ones', async () => {
    for (const [key, known] of [['trainer', 'recording-trainer'], ['tokenizer', 'recording-tokenizer'], ['merger', 'recording-merger']] as const) {
      const config = await writeTinyTextExperiment(join(dir, `bad-${key}`), { ...plugins, [key]: 'no-such-plugin' });
      const before = seen.trainedRuns.length;
      await expect(buildProgram(engine).parseAsync(['run', config, '--out', join(dir, `bad-${key}`, 'out')], { from: 'user' })).rejects.toThrow(new RegExp(`no-such-plugin[\\s\\S]*${known}|${known}[\\s\\S]*no-such-plugin`));
      expect(seen.trainedRuns.length).toBe(before);
    }
  });
});
