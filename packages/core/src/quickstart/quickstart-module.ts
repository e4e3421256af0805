import { ContainerModule } from 'inversify';
import { CliCommand } from '@xlt/plugin-api';
import { quickstartCommand } from './quickstart-command.js';

/**
 * Binds `xlt quickstart`. Its own module because the quickstart runs an experiment: it sits above `experiment/`,
 * so the experiment's module cannot bind it without the two folders importing each other.
 */
export const quickstartModule = new ContainerModule(({ bind }) => {
  bind(CliCommand).toConstantValue(quickstartCommand);
});
