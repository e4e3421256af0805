import type { Command } from 'commander';
import { OVERRIDES_VARIABLE, parseOverride, overridesVariableValue, type ConfigOverride } from '../config/config-overrides.js';

/** Whether a command takes an experiment config: its arguments include `<experiment>`. */
export function takesExperimentConfig(command: Command): boolean {
  return command.registeredArguments.some((a) => a.name() === 'experiment');
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Adds the repeatable `--set path=value` option to a command that takes an experiment config. */
export function addSetOption(command: Command): Command {
  return command.option(
    '--set <path=value>',
    'override a config value, e.g. --set grid.seeds=[1,2,3] --set training.maxLength=256 (value as YAML/JSON; repeatable, later wins)',
    collect,
  );
}

/**
 * Parses the `--set` values of the command about to run and hands them to the config loader through
 * `XLT_SET`, so that the processes it starts (`--workers`, tasks of `submit slurm --submit`, which exports the
 * environment) load the same config (`runCli` restores the variable afterwards). Scripts that `xlt submit` writes
 * to run later (SLURM without `--submit`, Kubernetes) set the variable themselves. Returns the parsed overrides.
 */
export function applySetOption(command: Command): ConfigOverride[] {
  const texts = (command.opts() as { set?: string[] }).set ?? [];
  if (texts.length === 0) return [];
  const overrides = texts.map(parseOverride);
  process.env[OVERRIDES_VARIABLE] = overridesVariableValue(overrides);
  return overrides;
}
