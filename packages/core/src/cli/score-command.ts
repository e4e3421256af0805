import type { Command } from 'commander';
import type { Engine } from '../engine/engine.js';
import type { CliCommand } from '../plugins/command.js';
import type { Metrics } from '../plugins/task.js';
import { readText } from '../util/files.js';

/** Options of {@link scoreFile}. */
export interface ScoreOptions {
  readonly task: string;
  readonly gold: string;
  readonly pred: string;
  /** Language of the data (selects language-aware metrics such as MLQA's). */
  readonly language?: string;
  /** Gold file format id, when detection is not enough. */
  readonly format?: string;
}

/** Scores a predictions file against a gold file with the task's official metric. */
export async function scoreFile(engine: Engine, options: ScoreOptions): Promise<Metrics> {
  const task = engine.tasks.get(options.task);
  const gold = await task.read({ path: options.gold, format: options.format, language: options.language }, {});
  const predictions = task.parsePredictions(await readText(options.pred), options.pred, gold);
  const context = { labels: task.labelSpace(gold, {}), maxLength: 0, options: {}, language: options.language };
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
      .action(async (opts: { task: string; gold: string; pred: string; lang?: string; format?: string }) => {
        const metrics = await scoreFile(engine, { task: opts.task, gold: opts.gold, pred: opts.pred, language: opts.lang, format: opts.format });
        process.stdout.write(`${JSON.stringify(metrics, null, 2)}\n`);
      });
  },
};
