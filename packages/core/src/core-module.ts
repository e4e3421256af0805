import { ContainerModule } from 'inversify';
import { pluginsCommand } from './cli/plugins-command.js';
import { scoreCommand } from './cli/score-command.js';
import { CliCommand } from '@xlt/plugin-api';
import { experimentModule } from './experiment/index.js';
import { modelModule } from './model/index.js';
import { quickstartModule } from './quickstart/quickstart-module.js';
import { tokenizerModule } from './tokenizer/index.js';
import { trainerModule } from './trainer/index.js';

/** The core package's bindings: the built-in CLI commands, encoders, tokenizers, backends and trainer. */
export const coreModule = new ContainerModule(async (options) => {
  const { bind } = options;
  await modelModule.load(options);
  await tokenizerModule.load(options);
  await trainerModule.load(options);
  await experimentModule.load(options);
  await quickstartModule.load(options);
  bind(CliCommand).toConstantValue(pluginsCommand);
  bind(CliCommand).toConstantValue(scoreCommand);
});
