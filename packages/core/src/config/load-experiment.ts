import {
  InputError,
  type InputIssue,
  type Engine,
  type PluginRegistry,
  type Plugin,
  formatPath,
  zodIssues,
} from '@xlt/plugin-api';
import { parseLocated, readLocated, type LocatedDocument } from '@xlt/plugin-api';
import { experimentSchema, type ExperimentConfig, type PluginRef } from './experiment-schema.js';
import { duplicateStrategyNames, strategyEntries } from './strategy-names.js';
import { applyOverrides, attributeIssues, overridesFromEnvironment, type ConfigOverride } from './config-overrides.js';

export { duplicateStrategyNames, optionsLabel, strategyEntries, type StrategyEntry } from './strategy-names.js';

/**
 * Validates an experiment document against the core schema and each named plugin's own options schema.
 * Collects every problem before failing, so one run of the loader shows all mistakes in the file. `overrides`
 * (`--set path=value`) are applied first; a problem in a value one of them set names that `--set`.
 */
export function validateExperiment(file: LocatedDocument, engine: Engine, overrides: readonly ConfigOverride[] = []): ExperimentConfig {
  const doc = applyOverrides(file, overrides);
  let issues: InputIssue[] = [];
  const parsed = experimentSchema.safeParse(doc.value, { reportInput: true });
  if (!parsed.success) issues.push(...zodIssues(parsed.error.issues, [], doc.locate, doc.file));

  const raw = (doc.value ?? {}) as Record<string, unknown>;
  const checkRef = <T extends Plugin>(registry: PluginRegistry<T>, ref: unknown, path: PropertyKey[]) => {
    if (ref === undefined) return;
    const id = typeof ref === 'string' ? ref : (ref as { id?: unknown })?.id;
    if (typeof id !== 'string') return; // the core schema already reported the shape
    const idPath = typeof ref === 'string' ? path : [...path, 'id'];
    if (!registry.has(id)) {
      issues.push({
        file: doc.file,
        ...doc.locate(idPath),
        path: formatPath(idPath),
        expected: `a known ${registry.kind} (${registry.ids().join(', ') || 'none registered'})`,
        found: JSON.stringify(id),
      });
      return;
    }
    const schema = registry.get(id).optionsSchema;
    const options = typeof ref === 'string' ? {} : ((ref as { options?: unknown }).options ?? {});
    if (schema) {
      const result = schema.safeParse(options, { reportInput: true });
      if (!result.success) issues.push(...zodIssues(result.error.issues, [...path, 'options'], doc.locate, doc.file));
    }
  };
  checkRef(engine.tasks, raw.task, ['task']);
  if (Array.isArray(raw.strategies)) {
    raw.strategies.forEach((s, i) => {
      checkRef(engine.strategies, s, ['strategies', i]);
      if (s && typeof s === 'object') checkRef(engine.mergers, (s as { merger?: unknown }).merger, ['strategies', i, 'merger']);
    });
  }
  checkRef(engine.mergers, raw.merger, ['merger']);
  if (parsed.success && parsed.data.strategies) {
    for (const [first, later] of duplicateStrategyNames(strategyEntries(parsed.data.strategies))) {
      issues.push({
        file: doc.file,
        ...doc.locate(['strategies', later.index]),
        path: later.path,
        expected: `a strategy name no other entry has (add "name" to one of them)`,
        found: `${JSON.stringify(later.name)}, the name of ${first.path} too`,
      });
    }
  }
  if (typeof raw.backend === 'string' && raw.backend !== 'auto' && !engine.backends.has(raw.backend)) {
    issues.push({
      file: doc.file,
      ...doc.locate(['backend']),
      path: 'backend',
      expected: `"auto" or a known backend (${engine.backends.ids().join(', ') || 'none registered'})`,
      found: JSON.stringify(raw.backend),
    });
  }
  if (issues.length > 0) {
    issues = attributeIssues(issues, overrides);
    issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    throw new InputError(issues, `${doc.file}: ${issues.length} problem${issues.length > 1 ? 's' : ''} in the experiment config:`);
  }
  return parsed.data!;
}

/**
 * Reads an experiment file (JSON or YAML), applies the overrides (default: the command line's `--set` values, which
 * the CLI passes on in the `XLT_SET` variable) and validates it; see {@link validateExperiment}.
 */
export async function loadExperiment(file: string, engine: Engine, overrides: readonly ConfigOverride[] = overridesFromEnvironment()): Promise<ExperimentConfig> {
  return validateExperiment(await readLocated(file), engine, overrides);
}

/** Validates an experiment given as text, with optional `--set` overrides; `file` names it in errors. */
export function parseExperiment(text: string, file: string, engine: Engine, overrides: readonly ConfigOverride[] = []): ExperimentConfig {
  return validateExperiment(parseLocated(text, file), engine, overrides);
}

/** The id and options of a plugin reference. */
export function resolveRef(ref: PluginRef): { id: string; options: Record<string, unknown> } {
  return typeof ref === 'string' ? { id: ref, options: {} } : { id: ref.id, options: ref.options ?? {} };
}
