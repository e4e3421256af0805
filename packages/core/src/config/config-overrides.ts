import { InputError, type InputIssue, type LocatedDocument, formatPath, parseLocated } from '@xlt/plugin-api';

/**
 * One `--set path=value` from the command line: a path into the config (`grid.seeds`, `strategies[0].options.lastK`)
 * and a value parsed as a YAML/JSON scalar or flow collection (`3e-5`, `[1,2,3]`, `linear`, `{lastK: 2}`).
 */
export interface ConfigOverride {
  /** The flag as given, without `--set`: names the origin of a problem in error messages. */
  readonly text: string;
  readonly path: readonly (string | number)[];
  readonly value: unknown;
}

/**
 * Environment variable that carries the `--set` values of a command to the processes it starts (`--workers`,
 * `sbatch --submit`, which exports the environment): a JSON array of `path=value` strings. The CLI sets it from
 * `--set`; {@link loadExperiment} applies it.
 */
export const OVERRIDES_VARIABLE = 'XLT_SET';

/** The origin of an override in error messages: `--set grid.seeds=[1,2]`. */
export function overrideOrigin(override: Pick<ConfigOverride, 'text'>): string {
  return `--set ${override.text}`;
}

const SEGMENT = /^([A-Za-z_$][\w$-]*)?((?:\[\d+\])*)$/;

/** Parses `path=value` (the argument of one `--set`); a malformed one is an {@link InputError} naming it. */
export function parseOverride(text: string): ConfigOverride {
  const fail = (expected: string, found: string): never => {
    throw new InputError([{ file: `--set ${text}`, expected, found }]);
  };
  const eq = text.indexOf('=');
  if (eq <= 0) fail('path=value, e.g. --set grid.seeds=[1,2,3]', eq === 0 ? 'no path before "="' : 'no "="');
  const pathText = text.slice(0, eq).trim();
  const path: (string | number)[] = [];
  for (const segment of pathText.split('.')) {
    const match = SEGMENT.exec(segment);
    if (!match || (match[1] === undefined && match[2] === '') || (match[1] === undefined && path.length === 0)) {
      fail('a path of keys and [index]es separated by dots, e.g. grid.seeds or strategies[0].options.lastK', JSON.stringify(pathText));
    }
    if (match![1] !== undefined) path.push(match![1]);
    for (const index of match![2]!.matchAll(/\[(\d+)\]/g)) path.push(Number(index[1]));
  }
  const valueText = text.slice(eq + 1);
  if (valueText.trim() === '') fail('a value after "=" (a number, a string, true/false, null or a [list])', 'nothing');
  let value: unknown;
  try {
    value = parseLocated(valueText, `--set ${text}`).value;
  } catch (error) {
    if (error instanceof InputError) throw new InputError(error.issues.map((i) => ({ ...i, line: undefined, column: undefined })));
    throw error;
  }
  return { text, path, value };
}

/** The overrides in {@link OVERRIDES_VARIABLE}, or none when it is unset. */
export function overridesFromEnvironment(env: NodeJS.ProcessEnv = process.env): ConfigOverride[] {
  const raw = env[OVERRIDES_VARIABLE];
  if (raw === undefined || raw.trim() === '') return [];
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch (error) {
    list = error;
  }
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string')) {
    throw new InputError([{ file: `$${OVERRIDES_VARIABLE}`, expected: 'a JSON array of "path=value" strings (what --set writes there)', found: JSON.stringify(raw.slice(0, 60)) }]);
  }
  return (list as string[]).map(parseOverride);
}

/** The value of {@link OVERRIDES_VARIABLE} that carries these overrides. */
export function overridesVariableValue(overrides: readonly ConfigOverride[]): string {
  return JSON.stringify(overrides.map((o) => o.text));
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The document with each override applied in order (a later one wins), its source positions kept for every path
 * that no override touched. Missing objects on the way are created; a path through a value that is not an object
 * (or an index past the end of a list) is an {@link InputError} naming the `--set`.
 */
export function applyOverrides(doc: LocatedDocument, overrides: readonly ConfigOverride[]): LocatedDocument {
  if (overrides.length === 0) return doc;
  const value: unknown = structuredClone(doc.value ?? {});
  if (!isRecord(value)) {
    throw new InputError([{ file: doc.file, path: '', expected: 'an object at the top of the config (so --set has keys to set)', found: Array.isArray(value) ? 'an array' : String(value) }]);
  }
  for (const o of overrides) {
    let node: Record<string, unknown> | unknown[] = value;
    for (let i = 0; i < o.path.length; i++) {
      const key = o.path[i]!;
      const last = i === o.path.length - 1;
      const here = formatPath(o.path.slice(0, i + 1));
      if (typeof key === 'number') {
        if (!Array.isArray(node)) throw new InputError([{ file: overrideOrigin(o), path: formatPath(o.path.slice(0, i)), expected: 'a list (the path indexes it)', found: 'an object' }]);
        if (key > node.length || (key === node.length && !last)) {
          throw new InputError([{ file: overrideOrigin(o), path: here, expected: `an index up to ${node.length} (the list has ${node.length} item${node.length === 1 ? '' : 's'})`, found: String(key) }]);
        }
      } else if (!isRecord(node)) {
        throw new InputError([{ file: overrideOrigin(o), path: formatPath(o.path.slice(0, i)), expected: 'an object (the path names a key in it)', found: 'a list' }]);
      }
      const container = node as Record<string | number, unknown>;
      if (last) {
        container[key] = structuredClone(o.value);
        break;
      }
      const next = container[key];
      if (next === undefined) container[key] = typeof o.path[i + 1] === 'number' ? [] : {};
      else if (!isRecord(next) && !Array.isArray(next)) {
        throw new InputError([{ file: overrideOrigin(o), path: here, expected: 'an object or a list (the path goes on inside it)', found: JSON.stringify(next) }]);
      }
      node = container[key] as Record<string, unknown> | unknown[];
    }
  }
  return {
    file: doc.file,
    value,
    locate: (path) => (overrideAt(overrides, formatPath(path)) ? {} : doc.locate(path)),
  };
}

/** The last override whose path is `path` or one of its parents (the one that put the value there). */
export function overrideAt(overrides: readonly ConfigOverride[], path: string): ConfigOverride | undefined {
  for (let i = overrides.length - 1; i >= 0; i--) {
    const p = formatPath(overrides[i]!.path);
    if (path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`)) return overrides[i];
  }
  return undefined;
}

/** Names the `--set` of every issue about a value an override set, instead of the config file's line. */
export function attributeIssues(issues: readonly InputIssue[], overrides: readonly ConfigOverride[]): InputIssue[] {
  if (overrides.length === 0) return [...issues];
  return issues.map((issue) => {
    const o = issue.path === undefined ? undefined : overrideAt(overrides, issue.path);
    if (!o) return issue;
    const { line: _line, column: _column, ...rest } = issue;
    return { ...rest, file: `${overrideOrigin(o)} (over ${issue.file ?? 'the config'})` };
  });
}
