import { relative, resolve } from 'node:path';
import { XltError } from '@xlt/plugin-api';
import type { ExperimentContext } from './experiment-context.js';
import { sha256File } from './file-hash.js';
import { readMarker, writeMarker } from './layout.js';
import type { GridProgress } from './progress.js';
import { withWorkLock } from './work-lock.js';

/** Everything the shared head depends on besides the model and the data (which the output folder's manifest fixes). */
export interface HeadSettings {
  readonly seed: number;
  readonly epochs: number;
  readonly learningRate: number;
  readonly batchSize: number;
  readonly examples: number;
  readonly maxLength: number;
  readonly weightDecay: number;
  readonly maxGradNorm: number;
  readonly gradientAccumulation: number;
}

/** The `head/head.json` of a finished head phase. The head file's path is relative to the head folder. */
export interface HeadDoneMarker {
  readonly protocol: 'shared-frozen';
  readonly settings: HeadSettings;
  readonly file: string;
  readonly seed: number;
  readonly steps: number;
  /** sha256 of the head file: a run records which head it was trained with. */
  readonly sha256: string;
  /** Wall time of the head phase. */
  readonly seconds: number;
}

/** The shared head every run of a `shared-frozen` experiment starts from, frozen. */
export interface SharedHead {
  /** Absolute path of the head file. */
  readonly file: string;
  readonly seed: number;
  readonly steps: number;
  readonly sha256: string;
  readonly seconds: number;
  /** True when this invocation found the head already trained. */
  readonly reused: boolean;
}

/** The settings of the head phase: `training.head`, its batch size defaulting to the grid's first one. */
export function headSettings(ctx: ExperimentContext): HeadSettings {
  const { training, grid } = ctx.config;
  const head = training.head;
  return {
    seed: head.seed,
    epochs: head.epochs,
    learningRate: head.learningRate,
    batchSize: head.batchSize ?? grid.batchSize[0]!,
    examples: ctx.data.train.length,
    maxLength: training.maxLength,
    weightDecay: training.weightDecay,
    maxGradNorm: training.maxGradNorm,
    gradientAccumulation: training.gradientAccumulation,
  };
}

const heads = new WeakMap<ExperimentContext, Promise<SharedHead | undefined>>();

/**
 * Makes sure the shared head exists when `training.head.protocol` is `shared-frozen` (`undefined` for `per-run`):
 * a finished head phase (its `head/head.json`) is reused after checking that its settings are the config's and its
 * file is unchanged; otherwise the head is trained once with the encoder frozen and `head.json` is written last.
 * Called before the first run trains; once per experiment context.
 */
export function ensureHead(ctx: ExperimentContext, progress?: GridProgress): Promise<SharedHead | undefined> {
  if (ctx.config.training.head.protocol !== 'shared-frozen') return Promise.resolve(undefined);
  let head = heads.get(ctx);
  if (!head) {
    head = lockedSharedHead(ctx, progress);
    heads.set(ctx, head);
    // A failed attempt is not remembered: calling again tries again.
    head.catch(() => heads.delete(ctx));
  }
  return head;
}

/** The shared head; training it holds the folder's `head` lock, so two processes never train it at once. */
async function lockedSharedHead(ctx: ExperimentContext, progress?: GridProgress): Promise<SharedHead> {
  if (await readMarker<HeadDoneMarker>(ctx.layout.headDone)) return sharedHead(ctx, progress);
  // Every run needs the head: processes that find it being trained (array tasks started together) wait for it.
  return withWorkLock(ctx.layout.lockFile('head'), 'Training the shared head', () => sharedHead(ctx, progress), { wait: true, onWait: (line) => progress?.phase(line) });
}

async function sharedHead(ctx: ExperimentContext, progress?: GridProgress): Promise<SharedHead> {
  const { layout } = ctx;
  const settings = headSettings(ctx);
  const done = await readMarker<HeadDoneMarker>(layout.headDone);
  if (done) {
    if (JSON.stringify(done.settings) !== JSON.stringify(settings)) {
      throw new XltError(
        `${layout.headDone} holds a shared head trained with ${JSON.stringify(done.settings)}, but ${ctx.configFile} asks for ${JSON.stringify(settings)} ` +
          `(training.head). Give another output folder (--out) or remove ${layout.headDir} and the runs trained with it.`,
      );
    }
    const file = resolve(layout.headDir, done.file);
    let sha256: string;
    try {
      sha256 = await sha256File(file);
    } catch (error) {
      throw new XltError(`${layout.headDone} names the head file ${file}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}). Remove ${layout.headDir} to train the head again.`);
    }
    if (sha256 !== done.sha256) {
      throw new XltError(`${file} changed after the head phase wrote it: its sha256 is ${sha256}, ${layout.headDone} says ${done.sha256}. Remove ${layout.headDir} (and the runs trained with it) to train it again.`);
    }
    progress?.phase(`head: the shared head is already trained (${relative(layout.root, file)}, seed ${done.seed})`);
    return { file, seed: done.seed, steps: done.steps, sha256, seconds: done.seconds, reused: true };
  }

  progress?.headStart(`head: training the shared head once with the encoder frozen (${settings.examples} source examples, ${settings.epochs} epoch${settings.epochs === 1 ? '' : 's'}, seed ${settings.seed})`);
  const started = performance.now();
  const trained = await ctx.services.trainHead({
    headDir: layout.headDir,
    task: ctx.task,
    taskOptions: ctx.taskOptions,
    model: ctx.model,
    backend: ctx.config.backend,
    trainer: ctx.config.trainer,
    ...(ctx.config.tokenizer ? { tokenizer: ctx.config.tokenizer } : {}),
    train: ctx.data.train,
    labels: ctx.labels,
    seed: settings.seed,
    epochs: settings.epochs,
    learningRate: settings.learningRate,
    batchSize: settings.batchSize,
    training: ctx.config.training,
    onStep: (step, total) => progress?.step(step, total),
  });
  const seconds = (performance.now() - started) / 1000;
  const sha256 = await sha256File(trained.file);
  const marker: HeadDoneMarker = { protocol: 'shared-frozen', settings, file: relative(layout.headDir, trained.file), seed: settings.seed, steps: trained.steps, sha256, seconds };
  await writeMarker(layout.headDone, marker);
  progress?.headDone(`head: trained in ${trained.steps} steps (${relative(layout.root, trained.file)})`);
  return { file: trained.file, seed: settings.seed, steps: trained.steps, sha256, seconds, reused: false };
}
