import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { experimentSchema } from './experiment-schema.js';

/** One key of a schema: its path (`training.head.seed`, `targets.*.test`) and its name. */
interface SchemaKey {
  readonly path: string;
  readonly key: string;
  /** The nearest enclosing key, `undefined` at the top level. */
  readonly parent?: string;
}

/** Every object key of a zod schema, nested, through optional/default/union/array/record wrappers. */
function schemaKeys(schema: z.ZodType, path: string[] = [], parent?: string): SchemaKey[] {
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
  switch (def.type) {
    case 'object':
      return Object.entries((schema as z.ZodObject).shape).flatMap(([key, value]) => [
        { path: [...path, key].join('.'), key, ...(parent ? { parent } : {}) },
        ...schemaKeys(value as z.ZodType, [...path, key], key),
      ]);
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
      return schemaKeys(def.innerType as z.ZodType, path, parent);
    case 'pipe':
      return schemaKeys(def.in as z.ZodType, path, parent);
    case 'union':
      return dedupe((def.options as z.ZodType[]).flatMap((o) => schemaKeys(o, path, parent)));
    case 'array':
      return schemaKeys(def.element as z.ZodType, path, parent);
    case 'record':
      return schemaKeys(def.valueType as z.ZodType, [...path, '*'], parent);
    default:
      return [];
  }
}
const dedupe = (keys: SchemaKey[]) => [...new Map(keys.map((k) => [k.path, k])).values()];

/** Product sources of core: no tests, no test helpers, no schema (where every key is only declared). */
function productSources(root: string, skip: string): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    const file = join(entry.parentPath, entry.name);
    if (!entry.isFile() || !file.endsWith('.ts') || file === skip) continue;
    if (/\.spec\.ts$|\.testing\.ts$|\.data\.ts$/.test(file) || relative(root, file).split('/').includes('testing')) continue;
    out.push({ file, text: readFileSync(file, 'utf8') });
  }
  return out;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The keys no product code reads. A key is read where a file accesses it as a property (`x.key`, `x?.key`,
 * `x['key']`) or destructures it (`const { a, key } = x`), and that file also names the key's parent key (so
 * `training.head.seed` is not satisfied by an unrelated `.seed`), or `config` for a top-level key.
 */
function unreadKeys(keys: readonly SchemaKey[], sources: readonly { text: string }[]): string[] {
  return keys
    .filter(({ key, parent }) => {
      const k = escape(key);
      const access = new RegExp(`\\??\\.${k}\\b(?!\\s*[(:])|\\[\\s*['"]${k}['"]\\s*\\]|\\{[^{}()]*\\b${k}\\b[^{}()]*\\}\\s*=[^=>]`);
      const named = new RegExp(`\\b${escape(parent ?? 'config')}\\b`);
      return !sources.some(({ text }) => access.test(text) && named.test(text));
    })
    .map((k) => k.path);
}

const src = join(import.meta.dirname, '..');
const schemaFile = join(import.meta.dirname, 'experiment-schema.ts');

describe('every key the experiment schema accepts is read by some code', () => {
  it('walks the whole schema, nested keys included', () => {
    const paths = schemaKeys(experimentSchema).map((k) => k.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'source.train', 'targets.*.test', 'setup.shots', 'grid.seeds', 'training.head.protocol', 'training.head.seed', 'checkpoints.everySteps', 'strategies.name', 'strategies.options', 'runGroups']));
    expect(paths.length).toBeGreaterThan(40);
  });

  it('finds no key that only the schema mentions', () => {
    expect(unreadKeys(schemaKeys(experimentSchema), productSources(src, schemaFile))).toEqual([]);
  });

  it('would report a key nobody reads, and a nested key read only under another parent', () => {
    const probe = z.strictObject({
      training: z.strictObject({ maxLength: z.number().default(1), neverReadAnywhere: z.number().optional() }).prefault({}),
      checkpoints: z.strictObject({ learningRate: z.number() }),
    });
    // A file that reads `.learningRate` and names `checkpoints` reads it; `grid.learningRate` alone does not.
    const sources = [{ text: 'const t = config.training; use(t.maxLength);' }, { text: 'const { checkpoints } = config; run(hp.learningRate);' }, { text: 'x.grid.learningRate' }];
    expect(unreadKeys(schemaKeys(probe), sources)).toEqual(['training.neverReadAnywhere']);
    expect(unreadKeys(schemaKeys(probe), sources.slice(2))).toEqual(['training', 'training.maxLength', 'training.neverReadAnywhere', 'checkpoints', 'checkpoints.learningRate']);
  });
});
