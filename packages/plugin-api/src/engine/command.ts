import type { Command } from 'commander';
import type { Plugin } from '../plugins/plugin.js';
import type { Engine } from './engine.js';

/**
 * Extension point: a subcommand of the `xlt` CLI. Packages add their commands (`average`, `score`, `run`, ...)
 * by binding one; the CLI asks each to describe its options on a commander `Command`.
 *
 * It lives beside the {@link Engine} rather than in `plugins/` because it is the one extension point handed the
 * engine itself: the other extension points stay free of the engine that registers them.
 */
export interface CliCommand extends Plugin {
  /** Adds options and the action to `command` (already named {@link id} and described). */
  configure(command: Command, engine: Engine): void;
}

/** Service identifier of {@link CliCommand}. */
export const CliCommand: unique symbol = Symbol.for('xlt.CliCommand');
