import { z } from 'zod';

/** A plugin reference in a config: its id alone, or `{ id, options }`. */
export const pluginRef = z.union(
  [z.string().min(1), z.strictObject({ id: z.string().min(1), options: z.record(z.string(), z.unknown()).optional() })],
  { error: 'a plugin id (string) or { "id": ..., "options": {...} }' },
);
/** See {@link pluginRef}. */
export type PluginRef = z.infer<typeof pluginRef>;

/**
 * An averaging strategy in a config: its id alone, or `{ id, name?, options?, merger? }`. The name keys its
 * results, model and evaluation folders, so one strategy can run several times with different options (an
 * ablation); see `strategyEntries` for the default name. `merger` (an id or `{ id, options }`) merges this entry's
 * plans instead of the experiment's `merger`: e.g. `checkpoint-average` with `ties` is TIES over each run's checkpoints.
 */
export const strategyRef = z.union(
  [
    z.string().min(1),
    z.strictObject({
      id: z.string().min(1),
      name: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._=,+\[\]-]*$/, 'a name of letters, digits and . _ = , + [ ] - (it names folders)')
        .optional(),
      options: z.record(z.string(), z.unknown()).optional(),
      merger: pluginRef.optional(),
    }),
  ],
  { error: 'a strategy id (string) or { "id": ..., "name": ..., "options": {...}, "merger": ... }' },
);
/** See {@link strategyRef}. */
export type StrategyRef = z.infer<typeof strategyRef>;

const files = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], { error: 'a file path or a list of file paths' });

/** Data of one language: test (evaluation) data, and optional dev (oracle only) and train (few-shot) data. */
export const languageData = z.strictObject({
  test: files,
  dev: files.optional(),
  train: files.optional(),
  format: z.string().optional(),
});

const positive = z.number().positive();

/** A grid axis: at least one value, no value twice (a repeat would announce a run that is the same run). */
const axis = <T extends z.ZodType<number | string>>(value: T) =>
  z.array(value).min(1).refine((values) => new Set(values).size === values.length, 'distinct values (a repeated value names the same run twice)');

/** The hyperparameter grid; every list is crossed with every other one and with the seeds. */
export const gridSchema = z.strictObject({
  learningRate: axis(positive).default([2e-5]),
  batchSize: axis(z.number().int().positive()).default([32]),
  epochs: axis(z.number().int().positive()).default([3]),
  /** Learning-rate schedule after warm-up, as transformers' `lr_scheduler_type` (`polynomial` decays to 1e-7 with `training.polynomialPower`). */
  schedule: axis(z.enum(['linear', 'cosine', 'polynomial', 'constant'])).default(['linear']),
  /** Warm-up as a fraction of the run's optimizer steps, as transformers' `warmup_ratio`. */
  warmup: axis(z.number().min(0).max(1)).default([0.1]),
  seeds: axis(z.number().int().nonnegative()).default([1]),
});

/**
 * Where the task head of the runs comes from. `shared-frozen` (the default, the protocol of Schmidt, Vulić and
 * Glavaš 2023, "Free Lunch"): before the grid, the head is trained once on the source train data with the encoder
 * frozen (linear probing, seed `seed`), then every run starts from it and keeps it frozen, so that runs differ only
 * in their encoders and averaging them is meaningful. `per-run`: each run draws its head from its own seed and
 * trains it with the encoder.
 */
export const headSchema = z.strictObject({
  protocol: z.enum(['shared-frozen', 'per-run']).default('shared-frozen'),
  /** Seed of the shared head's initialisation, data order and dropout. */
  seed: z.number().int().nonnegative().default(0),
  /** Epochs of the head phase over the source train data. */
  epochs: z.number().int().positive().default(1),
  /** Peak learning rate of the head phase (linear decay, no warm-up). */
  learningRate: positive.default(1e-3),
  /** Batch size of the head phase; default the grid's first batch size. */
  batchSize: z.number().int().positive().optional(),
});
/** See {@link headSchema}. */
export type HeadConfig = z.infer<typeof headSchema>;

/** Training settings shared by every run. */
export const trainingSchema = z.strictObject({
  maxLength: z.number().int().positive().default(128),
  weightDecay: z.number().min(0).default(0.01),
  maxGradNorm: z.number().positive().default(1),
  gradientAccumulation: z.number().int().positive().default(1),
  maxTrainExamples: z.number().int().positive().optional(),
  maxEvalExamples: z.number().int().positive().optional(),
  evalBatchSize: z.number().int().positive().default(64),
  head: headSchema.prefault({}),
  /** Optimizer steps between records of each run's `metrics.jsonl` and TensorBoard scalars (HF `logging_steps`). */
  loggingSteps: z.number().int().positive().default(10),
  /** Power of the `polynomial` schedule's decay to 1e-7 (HF `power`; 1 is linear). */
  polynomialPower: positive.default(1),
  /** AdamW's first-moment decay (HF `adam_beta1`), in [0, 1). */
  adamBeta1: z.number().min(0).lt(1).default(0.9),
  /** AdamW's second-moment decay (HF `adam_beta2`), in [0, 1). */
  adamBeta2: z.number().min(0).lt(1).default(0.999),
  /** AdamW's epsilon (HF `adam_epsilon`), > 0. */
  adamEpsilon: positive.default(1e-8),
  /**
   * Early stopping on source dev (HF `EarlyStoppingCallback`): stop a run after this many checkpoints in a row whose
   * source-dev score (the task's primary metric) did not beat the best by more than `earlyStoppingThreshold`.
   * Off when absent; needs `source.dev`.
   */
  earlyStoppingPatience: z.number().int().positive().optional(),
  /** Smallest source-dev improvement that resets the patience (HF `early_stopping_threshold`). */
  earlyStoppingThreshold: z.number().min(0).default(0),
});

/** The whole experiment file of `xlt run`. Task and strategy options are validated by their plugins. */
export const experimentSchema = z.strictObject({
  /** The JSON Schema that editors check the file against (`xlt schema` writes it); ignored by xlt. */
  $schema: z.string().optional(),
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._=,+-]*$/, 'a name of letters, digits and . _ = , + - (it names folders and cluster jobs)'),
  task: pluginRef,
  model: z.string().min(1),
  backend: z.string().default('auto'),
  /** Id of the `Trainer` plugin that trains each run (core binds `default`). */
  trainer: z.string().min(1).default('default'),
  /** Id of the `TokenizerProvider` that reads the model folder's tokenizer; the first that can read it when absent. */
  tokenizer: z.string().min(1).optional(),
  /**
   * The `CheckpointMerger` that builds averaged models, an id or `{ id, options }`: `streaming-mean` (the
   * weighted mean) or a merge method of `@xlt/averaging` (`ties`, `dare-ties`, `model-stock`, ...), whose base is
   * the experiment's pretrained model. A strategy entry may name its own.
   */
  merger: pluginRef.default('streaming-mean'),
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
  training: trainingSchema.prefault({}),
  checkpoints: z
    .strictObject({
      everySteps: z.number().int().positive().optional(),
      perEpoch: z.number().int().positive().default(1),
    })
    .default({ perEpoch: 1 }),
  /**
   * Which checkpoints stay on disk once every strategy's models are built and evaluated (transformers'
   * `save_total_limit`): `all` (the default); `needed`, only the final checkpoint of each run and the checkpoints
   * that are themselves a strategy's model (a selection such as `last` or `best-source-dev`); `{ keepLast: N }`,
   * those plus the N newest of each run. Averaged models are folders of their own and keep working. Not part of the
   * experiment's identity: it can change between re-runs, but a model that must be built later from a deleted
   * checkpoint (a strategy added, a run group that grew) is an error that names it.
   */
  retention: z
    .union([z.enum(['all', 'needed']), z.strictObject({ keepLast: z.number().int().positive() })], {
      error: '"all", "needed" or { "keepLast": N } with N ≥ 1',
    })
    .default('all'),
  strategies: z.array(strategyRef).min(1).optional(),
  /**
   * Which runs an across-run strategy (run averaging, CA+RA) combines: `all` runs of the grid into one model, or
   * the runs of each grid point that differ only by `seeds` (one model per hyperparameter setting, as in the
   * run-averaging literature), which also shows the spread of run averaging over the grid.
   */
  runGroups: z.enum(['all', 'seeds']).default('seeds'),
  /** Results sinks to write (`json`, `csv`, `html-report`, ...); every registered one when absent. */
  sinks: z.array(z.string().min(1)).min(1).optional(),
  /** Output folder, relative to the config file; `--out` overrides it. */
  output: z.string().min(1).optional(),
});

/** A validated experiment, defaults filled in. */
export type ExperimentConfig = z.infer<typeof experimentSchema>;
