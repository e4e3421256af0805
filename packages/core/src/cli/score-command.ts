import type { Command } from 'commander';
import { type Engine, type CliCommand, type Metrics, readText, InputError, zodIssues, parseKeyValues } from '@xlt/plugin-api';

/** Options of {@link scoreFile}. */
export interface ScoreOptions {
  readonly task: string;
  readonly gold: string;
  readonly pred: string;
  /** Language of the data (selects language-aware metrics such as MLQA's). */
  readonly language?: string;
  /** Gold file format id, when detection is not enough. */
  readonly format?: string;
  /** Training file whose labels define the label space, so that labels seen only in the gold count as unseen. */
  readonly train?: string;
  /** Task options (e.g. `metric`, `allowEmptyAnswers`, `languagePrefix`), validated by the task's schema. */
  readonly options?: Record<string, unknown>;
}

/** Scores a predictions file against a gold file with the task's official metric. */
export async function scoreFile(engine: Engine, options: ScoreOptions): Promise<Metrics> {
  const task = engine.tasks.get(options.task);
  const taskOptions = options.options ?? {};
  if (task.optionsSchema) {
    const result = task.optionsSchema.safeParse(taskOptions, { reportInput: true });
    if (!result.success) throw new InputError(zodIssues(result.error.issues, ['--option'], () => ({})), `Invalid options for the ${task.id} task:`);
  }
  const gold = await task.read({ path: options.gold, format: options.format, language: options.language }, taskOptions);
  const labelSource = options.train ? await task.read({ path: options.train, language: options.language }, taskOptions) : gold;
  const predictions = task.parsePredictions(await readText(options.pred), options.pred, gold);
  const context = { labels: task.labelSpace(labelSource, taskOptions), maxLength: 0, options: taskOptions, language: options.language };
  return task.score(gold, predictions, context);
}

/** `xlt score --task <id> --gold FILE --pred FILE [--lang L]`: prints the metrics as JSON. */
export const scoreCommand: CliCommand = {
  id: 'score',
  description: 'Score a predictions file against a gold file (NLI labels, SQuAD JSON, one tag per word) and print JSON metrics',
  configure(command: Command, engine: Engine) {
    command
      .requiredOption('--task <id>', `task id (${engine.tasks.ids().join(', ') || 'none registered'})`)
      .requiredOption('--gold <file>', 'gold data file in any format the task reads (.gz ok)')
      .requiredOption('--pred <file>', 'predictions in the format `xlt evaluate` writes')
      .option('--lang <code>', 'language of the data (MLQA metric variants)')
      .option('--format <id>', 'gold file format, when it cannot be detected')
      .option('--train <file>', 'training data whose labels define the label space (reports labels unseen in training)')
      .option('--option <key=value>', 'a task option (JSON value or string); repeatable', (v: string, prev: string[] = []) => [...prev, v])
      .action(async (opts: { task: string; gold: string; pred: string; lang?: string; format?: string; train?: string; option?: string[] }) => {
        const metrics = await scoreFile(engine, {
          task: opts.task, gold: opts.gold, pred: opts.pred, language: opts.lang, format: opts.format, train: opts.train,
          options: parseKeyValues(opts.option ?? []),
        });
        process.stdout.write(`${JSON.stringify(metrics, null, 2)}\n`);
      });
  },
};
