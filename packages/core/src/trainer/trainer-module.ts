import { ContainerModule } from 'inversify';
import { Trainer } from '@xlt/plugin-api';
import { DefaultTrainer } from './default-trainer.js';

/** Binds the built-in trainer (`default`). */
export const trainerModule = new ContainerModule(({ bind }) => {
  bind<Trainer>(Trainer).toConstantValue(new DefaultTrainer());
});
