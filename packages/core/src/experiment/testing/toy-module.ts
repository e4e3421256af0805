import { ContainerModule } from 'inversify';
import { AveragingStrategy } from '../../plugins/averaging.js';
import { TaskPlugin } from '../../plugins/task.js';
import { toyStrategies } from './toy-strategies.js';
import { toyTask } from './toy-task.js';

/** Binds {@link toyTask} and {@link toyStrategies}, for experiment tests. */
export const toyModule = new ContainerModule(({ bind }) => {
  bind(TaskPlugin).toConstantValue(toyTask);
  for (const s of toyStrategies) bind(AveragingStrategy).toConstantValue(s);
});
