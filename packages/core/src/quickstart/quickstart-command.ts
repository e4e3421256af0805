import type { Command } from 'commander';
import { type Engine, type CliCommand, integer } from '@xlt/plugin-api';
import { runQuickstart } from './quickstart.js';

/** `xlt quickstart [--out DIR]`: the offline demo on synthetic data. */
export const quickstartCommand: CliCommand = {
  id: 'quickstart',
  description: 'Offline demo: a SYNTHETIC POS benchmark, a tiny random encoder, 2 lrs x 2 seeds, every strategy, report',
  configure(command: Command, engine: Engine) {
    command
      .option('--out <dir>', 'folder for the data, model, config and results', 'xlt-quickstart')
      .option('--seed <n>', 'seed of the synthetic benchmark', integer('--seed'), 13)
      .action(async (opts: { out: string; seed: number }) => {
        await runQuickstart(engine, { out: opts.out, seed: opts.seed });
      });
  },
};
