import { dirname, resolve } from 'node:path';
import type { ExperimentConfig } from '../config/experiment-schema.js';
import { loadExperiment, resolveRef } from '../config/load-experiment.js';
import { type Engine, XltError, type ResultsSink, type TaskPlugin } from '@xlt/plugin-api';
import { loadExperimentData, resolveConfigPath, type ExperimentData } from './experiment-data.js';
import { ExperimentLayout, readMarker, writeMarker } from './layout.js';
import { planRuns, type RunSpec } from './run-plan.js';
import type { ExperimentServices } from './services.js';
import { selectStrategies, type SelectedStrategy } from './strategies.js';
import { sweepDebris } from './debris.js';
import { experimentIdentity, identityDifferences } from './experiment-identity.js';

/** Everything an experiment step needs, prepared and validated once. */
export interface ExperimentContext {
  readonly configFile: string;
  readonly config: ExperimentConfig;
  readonly engine: Engine;
  readonly services: ExperimentServices;
  readonly task: TaskPlugin;
  readonly taskOptions: Record<string, unknown>;
  readonly strategies: readonly SelectedStrategy[];
  readonly sinks: readonly ResultsSink[];
  readonly data: ExperimentData;
  /** Local folder of the pretrained model. */
  readonly model: string;
  readonly runs: readonly RunSpec[];
  readonly labels: readonly string[];
  readonly layout: ExperimentLayout;
}

/** Options of {@link prepareExperiment}. */
export interface PrepareOptions {
  /** Output folder; default the config's `output` (relative to the config file), else `xlt-runs/<name>`. */
  readonly out?: string;
  /** Lines for the person running it (notes such as left-out oracle strategies). */
  readonly note?: (line: string) => void;
  /** Backend id (or `auto`) that overrides the config's `backend` (`--backend`). */
  readonly backend?: string;
  /**
   * Checks of the command's own flags against the planned runs (`--index` in range, `--run` a known key), made
   * before the output folder is claimed: a wrong flag leaves no folder behind.
   */
  readonly check?: (plan: { readonly runs: readonly RunSpec[] }) => void;
}

/**
 * Loads and validates the config, its plugins and every data file (nothing is trained when any is wrong), plans
 * the runs and claims the output folder. Strategies and sinks may change between re-runs (adding a strategy to a
 * finished experiment only builds the new models); anything else that changes the runs is refused.
 */
export async function prepareExperiment(configFile: string, engine: Engine, services: ExperimentServices, options: PrepareOptions = {}): Promise<ExperimentContext> {
  const note = options.note ?? ((line: string) => process.stderr.write(`[xlt] ${line}\n`));
  const loaded = await loadExperiment(configFile, engine);
  if (options.backend !== undefined && options.backend !== 'auto') engine.backends.get(options.backend); // unknown ids list the known ones
  const config = options.backend === undefined ? loaded : { ...loaded, backend: options.backend };
  services.checkPlugins?.(config); // unknown trainer, tokenizer or merger ids fail before anything is trained
  const baseDir = dirname(resolve(configFile));
  const ref = resolveRef(config.task);
  const task = engine.tasks.get(ref.id);
  const taskOptions = (task.optionsSchema ? task.optionsSchema.parse(ref.options) : ref.options) as Record<string, unknown>;
  const hasTargetDev = Object.values(config.targets).some((t) => t.dev !== undefined);
  const strategies = selectStrategies(config, engine, hasTargetDev, note);
  const sinks = (config.sinks ?? engine.sinks.ids()).map((id) => engine.sinks.get(id));
  const data = await loadExperimentData(config, task, taskOptions, baseDir, configFile);
  const model = await services.resolveModel(config.model, baseDir);
  const root = options.out ? resolve(options.out) : config.output ? resolveConfigPath(config.output, baseDir) : resolve('xlt-runs', config.name);
  const layout = new ExperimentLayout(root);

  const runs = planRuns(config, data);
  options.check?.({ runs });
  const previous = await readMarker<{ settings: unknown }>(layout.manifest);
  const settings = experimentIdentity(config);
  // The grid is not part of the identity: added seeds or learning rates grow the experiment (only new runs train).
  const differences = previous ? identityDifferences(previous.settings, config) : [];
  if (differences.length) {
    throw new XltError(`${root} holds the results of a different experiment (its ${layout.manifest} differs from ${configFile} in ${differences.join(', ')}). Give another output folder (--out) or remove that one.`);
  }
  if (!previous) await writeMarker(layout.manifest, { name: config.name, config: configFile, settings });
  else {
    const debris = await sweepDebris(root);
    if (debris.paths.length) note(`removed ${debris.paths.length} leftover${debris.paths.length > 1 ? 's' : ''} of interrupted work (${(debris.bytes / 2 ** 20).toFixed(1)} MiB) in ${root}`);
  }

  const allTrain = [...data.train, ...data.targets.flatMap((t) => t.shots ?? [])];
  const labels = task.labelSpace(allTrain, taskOptions);
  return { configFile, config, engine, services, task, taskOptions, strategies, sinks, data, model, runs, labels, layout };
}
