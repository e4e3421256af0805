import type { StrategyRef } from './experiment-schema.js';

/** One strategy entry of a config with the name its results, models and evaluations are keyed by. */
export interface StrategyEntry {
  readonly id: string;
  readonly name: string;
  /** The options as the config gives them (the strategy's schema fills defaults later). */
  readonly options: Record<string, unknown>;
  /** The entry's own merger (`{ id, options }`), when it names one instead of the experiment's. */
  readonly merger?: { readonly id: string; readonly options: Record<string, unknown> };
  /** Position in the config's list, and its JSON path (`strategies[2]`). */
  readonly index: number;
  readonly path: string;
}

/** Characters allowed in a strategy name (it names folders); others in option values become `_`. */
const UNSAFE = /[^A-Za-z0-9._=,+[\]-]/g;

/** Options in a short, folder-safe form: `lastK=1,fromStep=20` (keys in the order given, values as JSON). */
export function optionsLabel(options: Readonly<Record<string, unknown>>): string {
  return Object.entries(options)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(',')
    .replace(UNSAFE, '_');
}

/**
 * The name of each strategy entry: its `name` when given; else its id, except when the same id appears more than
 * once without a name, where an entry with options is named `id[options]` (`checkpoint-average[lastK=1]`) and one
 * without stays `id`. Names may still collide (two unnamed entries with the same id and options); see
 * {@link duplicateStrategyNames}.
 */
export function strategyEntries(refs: readonly StrategyRef[]): StrategyEntry[] {
  const unnamed = new Map<string, number>();
  for (const ref of refs) if (typeof ref === 'string' || ref.name === undefined) {
    const id = typeof ref === 'string' ? ref : ref.id;
    unnamed.set(id, (unnamed.get(id) ?? 0) + 1);
  }
  return refs.map((ref, i) => {
    const path = `strategies[${i}]`;
    if (typeof ref === 'string') return { id: ref, name: ref, options: {}, index: i, path };
    const options = ref.options ?? {};
    const label = optionsLabel(options);
    const name = ref.name ?? ((unnamed.get(ref.id) ?? 0) > 1 && label !== '' ? `${ref.id}[${label}]` : ref.id);
    const merger = ref.merger === undefined ? undefined : typeof ref.merger === 'string' ? { id: ref.merger, options: {} } : { id: ref.merger.id, options: ref.merger.options ?? {} };
    return { id: ref.id, name, options, index: i, path, ...(merger ? { merger } : {}) };
  });
}

/** Pairs of entries that resolve to the same name: `[first, later]`, each later entry once. */
export function duplicateStrategyNames(entries: readonly StrategyEntry[]): [StrategyEntry, StrategyEntry][] {
  const seen = new Map<string, StrategyEntry>();
  const out: [StrategyEntry, StrategyEntry][] = [];
  for (const entry of entries) {
    const first = seen.get(entry.name);
    if (first) out.push([first, entry]);
    else seen.set(entry.name, entry);
  }
  return out;
}
