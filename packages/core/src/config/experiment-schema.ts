import { z } from 'zod';

/** A plugin reference in a config: its id alone, or `{ id, options }`. */
export const pluginRef = z.union(
  [z.string().min(1), z.strictObject({ id: z.string().min(1), options: z.record(z.string(), z.unknown()).optional() })],
  { error: 'a plugin id (string) or { "id": ..., "options": {...} }' },
);
/** See {@link pluginRef}. */
export type PluginRef = z.infer<typeof pluginRef>;

const files = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], { error: 'a file path or a list of file paths' });

/** Data of one language: test (evaluation) data, and optional dev (oracle only) and train (few-shot) data. */
export const languageData = z.strictObject({
  test: files,
  dev: files.optional(),
  train: files.optional(),
  format: z.string().optional(),
});

const positive = z.number().positive();

/** The hyperparameter grid; every list is crossed with every other one and with the seeds. */
export const gridSchema = z.strictObject({
  learningRate: z.array(positive).min(1).default([2e-5]),
  batchSize: z.array(z.number().int().positive()).min(1).default([32]),
  epochs: z.array(positive).min(1).default([3]),
  schedule: z.array(z.enum(['linear', 'constant'])).min(1).default(['linear']),
  warmup: z.array(z.number().min(0)).min(1).default([0.1]),
  seeds: z.array(z.number().int().nonnegative()).min(1).default([1]),
});

/** The whole experiment file of `xlt run`. Task and strategy options are validated by their plugins. */
export const experimentSchema = z.strictObject({
  name: z.string().min(1),
  task: pluginRef,
  model: z.string().min(1),
  backend: z.string().default('auto'),
  source: z.strictObject({
    language: z.string().min(2),
    train: files,
    dev: files.optional(),
    format: z.string().optional(),
  }),
  targets: z.record(z.string().min(2), languageData).refine((t) => Object.keys(t).length > 0, 'at least one target language'),
  setup: z
    .discriminatedUnion('mode', [
      z.strictObject({ mode: z.literal('zero-shot') }),
      z.strictObject({
        mode: z.literal('few-shot'),
        shots: z.number().int().positive(),
        seed: z.number().int().default(1),
        variant: z.enum(['multi', 'bi']).default('bi'),
        start: z.enum(['zero-shot', 'pretrained']).default('zero-shot'),
      }),
    ])
    .default({ mode: 'zero-shot' }),
  grid: gridSchema.default(gridSchema.parse({})),
  training: z
    .strictObject({
      maxLength: z.number().int().positive().default(128),
      weightDecay: z.number().min(0).default(0.01),
      maxGradNorm: z.number().positive().default(1),
      gradientAccumulation: z.number().int().positive().default(1),
      maxTrainExamples: z.number().int().positive().optional(),
      maxEvalExamples: z.number().int().positive().optional(),
      evalBatchSize: z.number().int().positive().default(64),
      freezeHeadFrom: z.string().optional(),
    })
    .default({ maxLength: 128, weightDecay: 0.01, maxGradNorm: 1, gradientAccumulation: 1, evalBatchSize: 64 }),
  checkpoints: z
    .strictObject({
      everySteps: z.number().int().positive().optional(),
      perEpoch: z.number().int().positive().default(1),
    })
    .default({ perEpoch: 1 }),
  strategies: z.array(pluginRef).min(1).optional(),
  /**
   * Which runs an across-run strategy (run averaging, CA+RA) combines: `all` runs of the grid into one model, or
   * the runs of each grid point that differ only by `seeds` (one model per hyperparameter setting, as in the
   * run-averaging literature), which also shows the spread of run averaging over the grid.
   */
  runGroups: z.enum(['all', 'seeds']).default('all'),
  /** Results sinks to write (`json`, `csv`, `html-report`, ...); every registered one when absent. */
  sinks: z.array(z.string().min(1)).min(1).optional(),
  /** Output folder, relative to the config file; `--out` overrides it. */
  output: z.string().min(1).optional(),
  plugins: z.array(z.string().min(1)).default([]),
});

/** A validated experiment, defaults filled in. */
export type ExperimentConfig = z.infer<typeof experimentSchema>;
