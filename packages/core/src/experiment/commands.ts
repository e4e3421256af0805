import { InvalidArgumentError, type Command } from 'commander';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Engine, XltError, positiveInt, nonNegativeInt, type CliCommand, writeFileAtomic } from '@xlt/plugin-api';
import { engineServices } from './engine-services.js';
import { prepareExperiment } from './experiment-context.js';
import { runPrepared } from './runner.js';
import { ensureHead } from './head-step.js';
import { runWorkers } from './workers.js';
import { ARRAY_INDEX_VARIABLES, runUnits, selectedUnits, type UnitSelection } from './units.js';
import type { ExperimentServices } from './services.js';
import { ensureRun } from './train-step.js';

/** Help text of a `--backend` option: what it does and the ids it takes. */
function backendHelp(engine: Engine, what: string): string {
  return `${what} (auto, ${engine.backends.ids().join(', ')})`;
}

/** Flags of {@link experimentArguments}. */
export interface ExperimentFlags {
  readonly out?: string;
  readonly backend?: string;
}

/** The argument and flags of every command over an experiment: its config, `--out` and `--backend`. */
export function experimentArguments(command: Command, engine: Engine): Command {
  return command
    .argument('<experiment>', 'experiment config (JSON or YAML); data paths are relative to its folder')
    .option('--out <dir>', 'output folder (default: the config\'s "output", else xlt-runs/<name>)')
    .option('--backend <id>', backendHelp(engine, 'training backend, overriding the config'));
}

/** How commands get their services: the engine's by default, fakes in tests. */
export type ServicesFactory = (engine: Engine) => ExperimentServices;

/**
 * `xlt run EXPERIMENT`: the whole protocol; re-running continues where it stopped. With `--index`, `--shard` or a
 * scheduler's array index in the environment it does only those units (runs); `--aggregate` does only the
 * averaging, evaluation and results once every unit is done.
 */
export function runCommand(services: ServicesFactory = engineServices): CliCommand {
  return {
    id: 'run',
    description: 'Run an experiment: train the grid x seeds, build every strategy, evaluate every target language, write results and report',
    configure(command: Command, engine: Engine) {
      experimentArguments(command, engine)
        .option('--index <i>', `do only unit i (a run; \`xlt plan\` lists them); default from ${ARRAY_INDEX_VARIABLES.join(', ')}`, nonNegativeInt('--index'))
        .option('--shard <i/n>', 'do only the units whose index is i modulo n', shardFlag)
        .option('--aggregate', 'only average, evaluate and write results, once every unit is done (the job after an array)')
        .option('--workers <n>', 'train the units in n child processes (threads split between them), then aggregate', positiveInt('--workers'))
        .action(async (file: string, opts: ExperimentFlags & UnitSelection & { aggregate?: boolean; workers?: number }) => {
          const note = (l: string) => process.stderr.write(`[xlt] ${l}\n`);
          const check = ({ runs }: { readonly runs: readonly unknown[] }) => void (opts.aggregate || selectedUnits(opts, runs.length));
          const ctx = await prepareExperiment(file, engine, services(engine), { out: opts.out, backend: opts.backend, note, check });
          const indices = opts.aggregate ? undefined : selectedUnits(opts, ctx.runs.length);
          if (!indices) {
            if (opts.workers && opts.workers > 1 && !opts.aggregate) {
              // The shared head first, here, so that the workers find it instead of waiting for one of them.
              await ensureHead(ctx);
              await runWorkers({ config: file, out: ctx.layout.root, workers: opts.workers, ...(opts.backend ? { backend: opts.backend } : {}), stderr: (t) => process.stderr.write(t) });
            }
            await runPrepared(ctx, { aggregate: opts.aggregate ?? Boolean(opts.workers && opts.workers > 1) });
            return;
          }
          const outcomes = await runUnits(ctx, indices, (t) => process.stderr.write(t));
          for (const o of outcomes) note(`unit ${o.index} (${o.key}): ${o.result === 'trained' ? 'trained' : o.result === 'done' ? 'already done' : 'held by another process, left to it'}`);
        });
    },
  };
}

/** `--shard i/n` checked as it is parsed, so a wrong one stops the command before anything is prepared. */
function shardFlag(value: string): string {
  const m = /^(\d+)\/(\d+)$/.exec(value);
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw new InvalidArgumentError(`--shard must be i/n with 0 <= i < n (e.g. 0/4), found ${JSON.stringify(value)}.`);
  return value;
}

/** `xlt train EXPERIMENT --run KEY`: trains (or resumes) one run of an experiment's grid. */
export function trainCommand(services: ServicesFactory = engineServices): CliCommand {
  return {
    id: 'train',
    description: 'Train one run of an experiment (one grid point and seed), resuming from its newest checkpoint',
    configure(command: Command, engine: Engine) {
      experimentArguments(command, engine)
        .option('--run <key>', 'run key, e.g. lr=2e-05_bs=32_ep=3_sched=linear_wu=0.1_seed=1 (default: the first run; --list shows them)')
        .option('--list', 'list the run keys of the experiment and exit')
        .action(async (file: string, opts: ExperimentFlags & { run?: string; list?: boolean }) => {
          const check = ({ runs }: { readonly runs: readonly { key: string }[] }) => {
            if (opts.run && !runs.some((r) => r.key === opts.run)) throw new XltError(`No run "${opts.run}" in ${file}. Runs: ${runs.map((r) => r.key).join(', ')}.`);
          };
          const ctx = await prepareExperiment(file, engine, services(engine), { out: opts.out, backend: opts.backend, check });
          if (opts.list) {
            process.stdout.write(`${ctx.runs.map((r) => r.key).join('\n')}\n`);
            return;
          }
          const run = opts.run ? ctx.runs.find((r) => r.key === opts.run) : ctx.runs[0];
          if (!run) throw new XltError(`No run "${opts.run}" in ${file}. Runs: ${ctx.runs.map((r) => r.key).join(', ')}.`);
          const checkpoints = await ensureRun(ctx, run);
          process.stdout.write(`${JSON.stringify({ run: run.key, dir: ctx.layout.runDir(run.key), checkpoints: checkpoints.map((c) => ({ step: c.step, path: c.path, sourceDev: c.sourceDev })) }, null, 2)}\n`);
        });
    },
  };
}

/** Label inventory of a fine-tuned HF folder (`id2label` in `config.json`), when it has one. */
async function folderLabels(model: string): Promise<string[] | undefined> {
  try {
    const config = JSON.parse(await readFile(join(model, 'config.json'), 'utf8')) as { id2label?: Record<string, string> };
    if (!config.id2label) return undefined;
    return Object.entries(config.id2label).sort(([a], [b]) => Number(a) - Number(b)).map(([, l]) => l);
  } catch {
    return undefined;
  }
}

/** `xlt evaluate`: one model folder on one data file; writes `predictions.txt` and `metrics.json`. */
export function evaluateCommand(services: ServicesFactory = engineServices): CliCommand {
  return {
    id: 'evaluate',
    description: 'Evaluate a model folder on a data file: write predictions (in the format xlt score reads) and metrics',
    configure(command: Command, engine: Engine) {
      command
        .requiredOption('--task <id>', `task id (${engine.tasks.ids().join(', ') || 'none registered'})`)
        .requiredOption('--model <dir>', 'fine-tuned HF model folder (a checkpoint or an averaged model)')
        .requiredOption('--data <file>', 'data file in a format the task reads (.gz ok)')
        .option('--lang <code>', 'language of the data')
        .option('--format <id>', 'data format, when it cannot be detected')
        .option('--out <dir>', 'where predictions.txt and metrics.json go', '.')
        .option('--max-length <n>', 'maximum sequence length', positiveInt('--max-length'), 128)
        .option('--batch-size <n>', 'evaluation batch size', positiveInt('--batch-size'), 64)
        .option('--backend <id>', backendHelp(engine, 'backend'), 'auto')
        .action(async (opts: { task: string; model: string; data: string; lang?: string; format?: string; out: string; maxLength: number; batchSize: number; backend: string }) => {
          const task = engine.tasks.get(opts.task);
          const taskOptions = (task.optionsSchema ? task.optionsSchema.parse({}) : {}) as Record<string, unknown>;
          const examples = await task.read({ path: opts.data, format: opts.format, language: opts.lang }, taskOptions);
          const labels = (await folderLabels(opts.model)) ?? task.labelSpace(examples, taskOptions);
          const predictions = await services(engine).predict({ task, taskOptions, model: resolve(opts.model), backend: opts.backend, examples, labels, language: opts.lang, maxLength: opts.maxLength, batchSize: opts.batchSize });
          const metrics = task.score(examples, predictions, { labels, maxLength: opts.maxLength, options: taskOptions, language: opts.lang });
          await mkdir(opts.out, { recursive: true });
          await writeFileAtomic(join(opts.out, 'predictions.txt'), task.formatPredictions(predictions, examples));
          await writeFileAtomic(join(opts.out, 'metrics.json'), `${JSON.stringify({ model: opts.model, data: opts.data, language: opts.lang, examples: examples.length, metrics }, null, 2)}\n`);
          process.stdout.write(`${JSON.stringify(metrics, null, 2)}\n`);
        });
    },
  };
}
