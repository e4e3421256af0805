import { ContainerModule } from 'inversify';
import { AveragingStrategy, TaskPlugin } from '@xlt/plugin-api';
import { toyStrategies } from './toy-strategies.js';
import { toyTask } from './toy-task.js';

/** Binds {@link toyTask} and {@link toyStrategies}, for experiment tests. */
export const toyModule = new ContainerModule(({ bind }) => {
  bind(TaskPlugin).toConstantValue(toyTask);
  for (const s of toyStrategies) bind(AveragingStrategy).toConstantValue(s);
});
