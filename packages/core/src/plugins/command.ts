import type { Command } from 'commander';
import type { Plugin } from './plugin.js';
import type { Engine } from '../engine/engine.js';

/**
 * Extension point: a subcommand of the `xlt` CLI. Packages add their commands (`average`, `score`, `run`, ...)
 * by binding one; the CLI asks each to describe its options on a commander `Command`.
 */
export interface CliCommand extends Plugin {
  /** Adds options and the action to `command` (already named {@link id} and described). */
  configure(command: Command, engine: Engine): void;
}

/** Service identifier of {@link CliCommand}. */
export const CliCommand: unique symbol = Symbol.for('xlt.CliCommand');
