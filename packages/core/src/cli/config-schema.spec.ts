import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { experimentSchema } from '../config/experiment-schema.js';
import { COMMITTED_SCHEMA, experimentJsonSchemaText } from './config-schema.js';

const repoRoot = join(import.meta.dirname, '..', '..', '..', '..');
const examples = join(repoRoot, 'examples');
const configs = (await readdir(examples)).filter((f) => f.endsWith('.json')).sort();

describe('the committed JSON Schema of the experiment config', () => {
  it(`is what \`xlt schema\` writes now (regenerate: npx xlt schema --out ${COMMITTED_SCHEMA})`, async () => {
    const committed = await readFile(join(repoRoot, COMMITTED_SCHEMA), 'utf8');
    expect(committed, `${COMMITTED_SCHEMA} is stale: run npx xlt schema --out ${COMMITTED_SCHEMA}`).toBe(experimentJsonSchemaText());
  });

  it('describes the schema: every top-level key of the config, strict, with the required ones', async () => {
    const schema = JSON.parse(await readFile(join(repoRoot, COMMITTED_SCHEMA), 'utf8')) as { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean };
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(experimentSchema.shape).sort());
    expect(schema.additionalProperties).toBe(false);
  });

  it.each(configs)('examples/%s names it first in "$schema", writes no output inside the repository and validates', async (name) => {
    const text = await readFile(join(examples, name), 'utf8');
    const config = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(config)[0]).toBe('$schema');
    expect(join(examples, config['$schema'] as string)).toBe(join(repoRoot, COMMITTED_SCHEMA));
    expect(config['output'], `${name}: "output" inside the repository; the default ./xlt-runs/<name> is ignored by git`).toBeUndefined();
    const parsed = experimentSchema.safeParse(config);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });
});
