import type { Plugin } from './plugin.js';

/**
 * Extension point: a trainer, which fine-tunes an encoder plus task head on a {@link TrainingBackend}.
 * The concrete job and result types are defined with the training code (issue #3); this contract stays
 * open so that alternative trainers (e.g. distributed ones) can be bound instead of the default.
 */
export interface Trainer<Job = unknown, Result = unknown> extends Plugin {
  train(job: Job): Promise<Result>;
}

/** Service identifier of {@link Trainer}. */
export const Trainer: unique symbol = Symbol.for('xlt.Trainer');
