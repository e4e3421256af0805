import type { Feature, Trainer } from '@xlt/plugin-api';
import { train } from './train.js';
import type { TrainingJob, TrainingResult } from './training-job.js';

/** The `default` trainer: {@link train} on whichever {@link EncoderRuntime} the job brings. */
export class DefaultTrainer implements Trainer<TrainingJob<Feature>, TrainingResult> {
  readonly id = 'default';
  readonly description = 'Fine-tunes encoder + task head with AdamW, warm-up/decay, clipping, accumulation, resumable checkpoints';

  train(job: TrainingJob<Feature>): Promise<TrainingResult> {
    return train(job);
  }
}
