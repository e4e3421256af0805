import 'reflect-metadata';
import { Container, type ContainerModule } from 'inversify';
import { AveragingStrategy } from '../plugins/averaging.js';
import { TrainingBackend } from '../plugins/backend.js';
import { CliCommand } from './command.js';
import { CheckpointMerger } from '../plugins/merger.js';
import { EncoderProvider } from '../plugins/encoder.js';
import { ResultsSink } from '../plugins/results.js';
import { TaskPlugin } from '../plugins/task.js';
import { TokenizerProvider } from '../plugins/tokenizer.js';
import { Trainer } from '../plugins/trainer.js';
import type { Plugin } from '../plugins/plugin.js';
import { PluginRegistry } from './registry.js';

/**
 * The engine: the DI container with every module loaded, and one {@link PluginRegistry} per extension point.
 * Create it with {@link createEngine}.
 */
export class Engine {
  readonly tasks: PluginRegistry<TaskPlugin>;
  readonly strategies: PluginRegistry<AveragingStrategy>;
  readonly backends: PluginRegistry<TrainingBackend>;
  readonly tokenizers: PluginRegistry<TokenizerProvider>;
  readonly encoders: PluginRegistry<EncoderProvider>;
  readonly trainers: PluginRegistry<Trainer>;
  readonly sinks: PluginRegistry<ResultsSink>;
  readonly mergers: PluginRegistry<CheckpointMerger>;
  readonly commands: PluginRegistry<CliCommand>;

  constructor(readonly container: Container) {
    const all = <T extends Plugin>(id: symbol): T[] => container.getAll<T>(id, { optional: true }) ?? [];
    this.tasks = new PluginRegistry('task', all<TaskPlugin>(TaskPlugin));
    this.strategies = new PluginRegistry('averaging strategy', all<AveragingStrategy>(AveragingStrategy));
    this.backends = new PluginRegistry('backend', all<TrainingBackend>(TrainingBackend));
    this.tokenizers = new PluginRegistry('tokenizer', all<TokenizerProvider>(TokenizerProvider));
    this.encoders = new PluginRegistry('encoder', all<EncoderProvider>(EncoderProvider));
    this.trainers = new PluginRegistry('trainer', all<Trainer>(Trainer));
    this.sinks = new PluginRegistry('results sink', all<ResultsSink>(ResultsSink));
    this.mergers = new PluginRegistry('checkpoint merger', all<CheckpointMerger>(CheckpointMerger));
    this.commands = new PluginRegistry('command', all<CliCommand>(CliCommand));
  }

  /** Every extension point with its plugins, in the order `xlt plugins` prints them. */
  extensionPoints(): { kind: string; plugins: Plugin[] }[] {
    return [this.tasks, this.strategies, this.mergers, this.backends, this.tokenizers, this.encoders, this.trainers, this.sinks].map(
      (r) => ({ kind: r.kind, plugins: r.all() as Plugin[] }),
    );
  }
}

/**
 * Builds an engine from container modules, e.g. `createEngine([coreModule, nliModule, averagingModule, myModule])`.
 * Each package exports one `ContainerModule` that binds its plugins to the extension-point symbols; loading the
 * same module twice, or two modules binding the same id, is a {@link DuplicatePluginError}.
 */
export async function createEngine(modules: readonly ContainerModule[]): Promise<Engine> {
  const container = new Container({ defaultScope: 'Singleton' });
  await container.loadAsync(...modules);
  return new Engine(container);
}
