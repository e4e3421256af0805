import { ContainerModule } from 'inversify';
import { pluginsCommand } from './cli/plugins-command.js';
import { scoreCommand } from './cli/score-command.js';
import { CliCommand } from './plugins/command.js';

/** The core package's bindings: the built-in CLI commands, encoders, tokenizers, backends and trainer. */
export const coreModule = new ContainerModule(({ bind }) => {
  bind(CliCommand).toConstantValue(pluginsCommand);
  bind(CliCommand).toConstantValue(scoreCommand);
});
