import { resolveRef } from '../config/load-experiment.js';
import type { ExperimentConfig } from '../config/experiment-schema.js';
import type { Engine } from '../engine/engine.js';
import { XltError } from '../errors.js';
import type { AveragingStrategy } from '../plugins/averaging.js';

/** A strategy chosen by the experiment, with its validated options. */
export interface SelectedStrategy {
  readonly id: string;
  readonly strategy: AveragingStrategy;
  readonly options: Record<string, unknown>;
}

/**
 * The strategies an experiment runs: those the config lists, or every registered one that needs no options. Oracle strategies need
 * target-language dev data; without any they are left out (and said so), never run on something else.
 */
export function selectStrategies(
  config: ExperimentConfig,
  engine: Engine,
  hasTargetDev: boolean,
  note: (line: string) => void,
): SelectedStrategy[] {
  const refs = config.strategies ?? engine.strategies.ids();
  if (refs.length === 0) {
    throw new XltError('No averaging strategy is registered: load @xlt/averaging (or another strategy package) or list "strategies" in the config.');
  }
  const out: SelectedStrategy[] = [];
  for (const ref of refs) {
    const { id, options } = resolveRef(ref);
    const strategy = engine.strategies.get(id);
    if (strategy.oracle && !hasTargetDev) {
      note(`strategy "${id}" is an oracle (it selects on target-language dev data) and no target has "dev" data: left out.`);
      continue;
    }
    const parsed = strategy.optionsSchema ? strategy.optionsSchema.safeParse(options) : { success: true as const, data: options };
    if (!parsed.success) {
      // Only reachable for defaults: listed strategies had their options validated with the config.
      note(`strategy "${id}" needs options (${parsed.error.issues.map((i) => i.path.join('.') || i.message).join(', ')}): left out of the defaults; list it in "strategies" with its options to run it.`);
      continue;
    }
    out.push({ id, strategy, options: parsed.data as Record<string, unknown> });
  }
  return out;
}
