/**
 * The trainer's telemetry and settings on the main path of the CLI: `xlt train` goes through the engine's
 * services, which must pass the config's `training` settings, source dev and a progress output to the trainer
 * (not silence it), and stay quiet when a caller asks for its lines.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerModule } from 'inversify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AveragingStrategy, createEngine, TaskPlugin, Trainer, type Engine, type Feature } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { buildProgram } from '../cli/program.js';
import { coreModule } from '../core-module.js';
import { engineServices } from '../experiment/engine-services.js';
import { prepareExperiment } from '../experiment/experiment-context.js';
import { tinyTextTask, writeTinyTextExperiment } from '../experiment/testing/tiny-text-task.js';
import { toyStrategies } from '../experiment/testing/toy-strategies.js';
import { ensureRun } from '../experiment/train-step.js';
import { readMetricsLog } from '../telemetry/metrics-log.js';
import { train } from './train.js';
import type { TrainingJob } from './training-job.js';

const jobs: TrainingJob<Feature>[] = [];
const recording = new ContainerModule(({ bind }) => {
  bind(TaskPlugin).toConstantValue(tinyTextTask);
  for (const s of toyStrategies) bind(AveragingStrategy).toConstantValue(s);
  bind(Trainer).toConstantValue({
    id: 'recording',
    description: 'core train, keeping each job',
    train(job: TrainingJob<Feature>) {
      jobs.push(job);
      return train(job);
    },
  } satisfies Trainer<TrainingJob<Feature>, unknown>);
});

const TRAINING = { maxLength: 16, evalBatchSize: 16, head: { learningRate: 1e-2, epochs: 1 }, loggingSteps: 1, adamBeta1: 0.8, adamBeta2: 0.99, adamEpsilon: 1e-6, earlyStoppingPatience: 5 };

/** Runs `fn` with stdout and stderr captured. */
async function captured(fn: () => Promise<unknown>): Promise<{ stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const [stdout, stderr] = [process.stdout.write, process.stderr.write];
  process.stdout.write = ((chunk: string) => ((out.stdout += chunk), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => ((out.stderr += chunk), true)) as typeof process.stderr.write;
  try {
    await fn();
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
  return out;
}

describe('xlt train shows and logs training as it happens', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let engine: Engine;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('xlt-engine-wiring-'));
    engine = await createEngine([coreModule, recording]);
  });
  afterAll(() => cleanup());

  it('passes the training settings, source dev and progress to the trainer; the run folder gets metrics and events', async () => {
    const config = await writeTinyTextExperiment(join(dir, 'cli'), { trainer: 'recording', training: TRAINING });
    const { stdout, stderr } = await captured(() => buildProgram(engine).parseAsync(['train', config], { from: 'user' }));
    const printed = JSON.parse(stdout) as { run: string; dir: string; checkpoints: { step: number; sourceDev: Record<string, number> }[] };
    const job = jobs.at(-1)!;
    expect(job.runId).toBe(printed.run);
    expect(job.options).toMatchObject({ beta1: 0.8, beta2: 0.99, epsilon: 1e-6, loggingSteps: 1, earlyStoppingPatience: 5, earlyStoppingThreshold: 0, polynomialPower: 1 });
    expect(job.sourceDevMetric).toBe('accuracy');
    expect(job.sourceDev).toBeTypeOf('function');
    // Not silenced: 24 examples in batches of 8 are 3 steps, each a progress line on (non-terminal) stderr.
    expect(job.progress).toMatchObject({ tty: false, prefix: '[xlt] ' });
    expect(stderr.match(/^\[xlt\] step \d\/3 epoch .* tok\/s ETA \S+$/gm)).toHaveLength(3);

    const records = await readMetricsLog(join(printed.dir, 'metrics.jsonl'));
    expect(records.filter((r) => r.type === 'train').map((r) => r.step)).toEqual([1, 2, 3]);
    // Source dev scored by the trainer as each checkpoint was saved, and the same scores in the run's result.
    const checkpoints = records.filter((r) => r.type === 'checkpoint');
    expect(checkpoints.map((r) => r.step)).toEqual(printed.checkpoints.map((c) => c.step));
    expect(checkpoints.map((r) => r.source_dev)).toEqual(printed.checkpoints.map((c) => c.sourceDev));
    expect(printed.checkpoints.every((c) => typeof c.sourceDev?.accuracy === 'number')).toBe(true);
    const events = await readdir(join(printed.dir, 'tensorboard'));
    expect(events).toHaveLength(1);
    const bytes = await readFile(join(printed.dir, 'tensorboard', events[0]!));
    expect(bytes.includes(Buffer.from('eval/source_dev'))).toBe(true);
    expect(bytes.includes(Buffer.from('brain.Event:2'))).toBe(true);
  }, 120_000);

  it('a caller that takes the lines (tests, quiet mode) gets the progress lines; stderr gets none', async () => {
    const config = await writeTinyTextExperiment(join(dir, 'quiet'), { trainer: 'recording', training: { ...TRAINING, loggingSteps: 2 } });
    const lines: string[] = [];
    const { stderr } = await captured(async () => {
      const ctx = await prepareExperiment(config, engine, engineServices(engine, { log: (l) => lines.push(l) }), {});
      await ensureRun(ctx, ctx.runs[0]!);
    });
    expect(stderr).not.toMatch(/step \d\/3/);
    expect(lines.filter((l) => /^step \d\/3 /.test(l)).map((l) => l.slice(0, 8))).toEqual(['step 2/3', 'step 3/3']);
  }, 120_000);

  it('early stopping without source dev data is refused, naming the keys', async () => {
    const config = await writeTinyTextExperiment(join(dir, 'no-dev'), { trainer: 'recording', training: { ...TRAINING, earlyStoppingPatience: 2 }, source: { language: 'en', train: 'data/en-train.tsv' } });
    const before = jobs.length;
    await expect(captured(() => buildProgram(engine).parseAsync(['train', config], { from: 'user' }))).rejects.toThrow(
      'training.earlyStoppingPatience is 2, but the experiment has no source.dev: early stopping watches the source-dev score of each checkpoint. Add source.dev or remove training.earlyStoppingPatience.',
    );
    expect(jobs.length).toBe(before);
    expect(existsSync(join(dir, 'no-dev', 'out', 'runs'))).toBe(false);
  }, 120_000);

  it('the config refuses bad training settings with the key, what was expected and what was found', async () => {
    const config = await writeTinyTextExperiment(join(dir, 'bad'), { training: { loggingSteps: 0, adamBeta1: 1, adamEpsilon: -1, polynomialPower: 0, earlyStoppingPatience: 1.5 } });
    const error = await prepareExperiment(config, engine, engineServices(engine, { log: () => {} }), {}).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/training\.loggingSteps[^\n]*expected > 0[^\n]*found number 0/);
    expect(error?.message).toMatch(/training\.adamBeta1[^\n]*expected < 1[^\n]*found number 1/);
    expect(error?.message).toMatch(/training\.adamEpsilon[^\n]*expected > 0[^\n]*found number -1/);
    expect(error?.message).toMatch(/training\.polynomialPower[^\n]*expected > 0[^\n]*found number 0/);
    expect(error?.message).toMatch(/training\.earlyStoppingPatience[^\n]*expected int[^\n]*found number 1\.5/);
  }, 60_000);
});
