import { Command, CommanderError } from 'commander';
import type { ContainerModule } from 'inversify';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { createEngine, type Engine, XltError } from '@xlt/plugin-api';
import { coreModule } from '../core-module.js';
import { discoverPluginPackages, importPluginModule } from './discover.js';
import { describeFsError } from './fs-errors.js';
import { coreVersion } from './package-version.js';
import { addSchemaCommand } from './schema-command.js';
import { addSetOption, applySetOption, takesExperimentConfig } from './set-option.js';
import { OVERRIDES_VARIABLE } from '../config/config-overrides.js';

/** Where the CLI looks for plugin packages and which extra modules to load. */
export interface ProgramOptions {
  /** Extra plugin module specifiers (package names or paths), from `--plugin` and `XLT_PLUGINS`. */
  readonly plugins?: readonly string[];
  /** Skip scanning `node_modules` for plugin packages (tests). */
  readonly noDiscovery?: boolean;
  /** Modules to load in addition (tests, embedding). */
  readonly modules?: readonly ContainerModule[];
}

/** Loads core, every discovered plugin package and the explicitly named plugins into one engine. */
export async function loadCliEngine(options: ProgramOptions = {}): Promise<Engine> {
  const modules: ContainerModule[] = [coreModule, ...(options.modules ?? [])];
  if (!options.noDiscovery) {
    const here = dirname(fileURLToPath(import.meta.url));
    for (const pkg of await discoverPluginPackages([process.cwd(), here])) {
      if (pkg.name === '@xlt/core') continue;
      modules.push(await importPluginModule(pkg.dir, pkg.exportName));
    }
  }
  for (const spec of options.plugins ?? []) modules.push(await importPluginModule(spec));
  return createEngine(modules);
}

/** Builds the commander program with one subcommand per bound {@link CliCommand}. */
export function buildProgram(engine: Engine): Command {
  const program = new Command('xlt')
    .description(
      'xlt: zero- and few-shot cross-lingual transfer with checkpoint and run averaging.\n' +
        'Fine-tune multilingual encoders over a grid, average checkpoints and runs, evaluate every target language.',
    )
    .option('--plugin <module>', 'load an extra plugin package or module file; repeatable (also: XLT_PLUGINS, comma-separated)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--offline', 'never touch the network: hub models only from the Hugging Face cache (also: HF_HUB_OFFLINE=1)')
    .version(coreVersion(), '-V, --version', 'print the version of @xlt/core and exit')
    .showHelpAfterError()
    .exitOverride();
  for (const cmd of engine.commands.all()) {
    const sub = program.command(cmd.id).description(cmd.description).exitOverride();
    cmd.configure(sub, engine);
    // Every command over an experiment config takes `--set`, whoever wrote it: the loader applies the values.
    if (takesExperimentConfig(sub)) addSetOption(sub);
  }
  addSchemaCommand(program);
  program.hook('preAction', (root, action) => {
    // Through the environment, like --set: the model resolver and any process this command starts see it.
    if ((root.opts() as { offline?: boolean }).offline) process.env['HF_HUB_OFFLINE'] = '1';
    applySetOption(action);
  });
  return program;
}

/** Extracts `--plugin` values before commander runs, since they decide which commands exist. */
export function pluginArgs(argv: readonly string[]): string[] {
  const out: string[] = (process.env.XLT_PLUGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--plugin' && i + 1 < argv.length) out.push(argv[++i]!);
    else if (argv[i]!.startsWith('--plugin=')) out.push(argv[i]!.slice('--plugin='.length));
  }
  return out;
}

/** Runs the CLI; returns the exit code. Known errors print their message only; others their stack. */
export async function runCli(argv: readonly string[], options: ProgramOptions = {}): Promise<number> {
  // Every file xlt writes is written atomically and every step resumes, so any moment is a safe point to stop at:
  // say so, and exit with the shell's codes for the signal (130, 143) instead of a silent death.
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(
      `\nxlt: stopped by ${signal}. What was finished is kept (checkpoints, finished runs, models and evaluations are written whole or not at all); run the same command again to resume.\n`,
    );
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const inheritedOverrides = process.env[OVERRIDES_VARIABLE];
  const inheritedOffline = process.env['HF_HUB_OFFLINE'];
  try {
    const engine = await loadCliEngine({ ...options, plugins: [...(options.plugins ?? []), ...pluginArgs(argv)] });
    await buildProgram(engine).parseAsync(argv as string[], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof XltError) {
      process.stderr.write(`xlt: ${error.message}\n`);
      return 1;
    }
    const fsError = describeFsError(error);
    if (fsError) {
      process.stderr.write(`xlt: ${fsError}\n`);
      return 1;
    }
    process.stderr.write(`xlt: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    return 2;
  } finally {
    // `--set` put its values there for this command and its children; an embedding process keeps its own.
    if (inheritedOverrides === undefined) delete process.env[OVERRIDES_VARIABLE];
    else process.env[OVERRIDES_VARIABLE] = inheritedOverrides;
    if (inheritedOffline === undefined) delete process.env['HF_HUB_OFFLINE'];
    else process.env['HF_HUB_OFFLINE'] = inheritedOffline;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
