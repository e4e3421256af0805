import type { ExperimentConfig } from '../config/experiment-schema.js';
import { strategyEntries, type StrategyEntry } from '../config/strategy-names.js';
import { resolveRef } from '../config/load-experiment.js';
import { type Engine, XltError, type AveragingStrategy } from '@xlt/plugin-api';

/** A strategy chosen by the experiment, with its validated options. */
export interface SelectedStrategy {
  /** The plugin id, e.g. `checkpoint-average`. */
  readonly id: string;
  /**
   * What results, model folders (`models/<name>/`) and evaluation folders are keyed by: the entry's `name`, else
   * its id (or id plus options when one id is listed several times; see `strategyEntries`).
   */
  readonly name: string;
  readonly strategy: AveragingStrategy;
  /** Options after the strategy's schema (defaults filled in). */
  readonly options: Record<string, unknown>;
  /** The checkpoint merger of its averages: the entry's own `merger`, else the experiment's. */
  readonly merger: MergerChoice;
}

/** A checkpoint merger as a config names it: the plugin id and its options (before its schema's defaults). */
export interface MergerChoice {
  readonly id: string;
  readonly options: Record<string, unknown>;
}

/**
 * The strategies an experiment runs: those the config lists, or every registered one that needs no options. Oracle strategies need
 * target-language dev data; without any they are left out (and said so), never run on something else. Strategies
 * that rank on source-language dev data need `source.dev`: left out of the defaults without it, an error when listed.
 */
export function selectStrategies(
  config: ExperimentConfig,
  engine: Engine,
  hasTargetDev: boolean,
  note: (line: string) => void,
): SelectedStrategy[] {
  const entries: StrategyEntry[] = config.strategies
    ? strategyEntries(config.strategies)
    : engine.strategies.ids().map((id, index) => ({ id, name: id, options: {}, index, path: `(default ${id})` }));
  if (entries.length === 0) {
    throw new XltError('No averaging strategy is registered: load @xlt/averaging (or another strategy package) or list "strategies" in the config.');
  }
  const out: SelectedStrategy[] = [];
  const hasSourceDev = config.source.dev !== undefined;
  const experimentMerger = resolveRef(config.merger);
  for (const { id, name, options, path, merger } of entries) {
    const strategy = engine.strategies.get(id);
    if (strategy.needsSourceDev && !hasSourceDev) {
      if (config.strategies) {
        throw new XltError(`${path}: strategy "${name}" ranks checkpoints on source-language dev data, and the config has no "source.dev": add it, or remove the strategy.`);
      }
      note(`strategy "${name}" ranks checkpoints on source-language dev data and the config has no "source.dev": left out.`);
      continue;
    }
    if (strategy.oracle && !hasTargetDev) {
      note(`strategy "${name}" is an oracle (it selects on target-language dev data) and no target has "dev" data: left out.`);
      continue;
    }
    const parsed = strategy.optionsSchema ? strategy.optionsSchema.safeParse(options) : { success: true as const, data: options };
    if (!parsed.success) {
      // Only reachable for defaults: listed strategies had their options validated with the config.
      note(`strategy "${id}" needs options (${parsed.error.issues.map((i) => i.path.join('.') || i.message).join(', ')}): left out of the defaults; list it in "strategies" with its options to run it.`);
      continue;
    }
    out.push({ id, name, strategy, options: parsed.data as Record<string, unknown>, merger: merger ?? experimentMerger });
  }
  return out;
}
