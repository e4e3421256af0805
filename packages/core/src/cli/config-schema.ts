import { z } from 'zod';
import { experimentSchema } from '../config/experiment-schema.js';

/** Where the committed JSON Schema of the experiment config lives, relative to the repository root. */
export const COMMITTED_SCHEMA = 'examples/schema/xlt-config.schema.json';

/**
 * The JSON Schema (draft 2020-12) of an experiment config file as a person writes it: fields with defaults are
 * optional. Task and strategy `options` are open objects, since their plugins validate them at load time.
 */
export function experimentJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(experimentSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    $schema: schema['$schema'],
    $id: 'https://xlt.invalid/xlt-config.schema.json',
    title: 'xlt experiment config',
    description: 'An experiment of `xlt run`: task, model, source and target data, the hyperparameter grid x seeds, training, checkpoints and strategies. Written by `xlt schema`.',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}

/** {@link experimentJsonSchema} as the text `xlt schema` writes: two-space JSON and a final newline. */
export function experimentJsonSchemaText(): string {
  return `${JSON.stringify(experimentJsonSchema(), null, 2)}\n`;
}
