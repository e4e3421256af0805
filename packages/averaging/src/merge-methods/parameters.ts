import { InputError, XltError, type MergeMethod } from '@xlt/plugin-api';
import { z } from 'zod';

const DENSITY = 'a number in (0, 1]';
const densityNumber = z.number({ error: DENSITY }).gt(0, DENSITY).lte(1, DENSITY);

/**
 * `density`: the fraction of each task vector kept (TIES trims by magnitude, DARE drops at random). One number for
 * every model, or a list with one per model in plan order (a mergekit YAML's per-model `density`). Default 1 (keep
 * all), as in mergekit.
 */
export const densityParameter = z
  .union([densityNumber, z.array(densityNumber).min(1, 'a list of at least one density')], { error: `${DENSITY}, or a list of one such number per model` })
  .default(1);

/** `lambda`: the factor of the merged task vector before it is added to the base (mergekit's `lambda`). Default 1. */
export const lambdaParameter = z.number({ error: 'a finite number' }).refine(Number.isFinite, 'a finite number').default(1);

/** `normalize`: divide the weighted sum by the sum of the weights (of the agreeing models, for sign consensus). */
export const normalizeParameter = (byDefault: boolean) => z.boolean({ error: 'true or false' }).default(byDefault);

/** `seed` of DARE's drop mask: a non-negative integer below 2^53. Default 0. */
export const seedParameter = z.number({ error: 'a whole number >= 0' }).int('a whole number >= 0').min(0, 'a whole number >= 0').max(Number.MAX_SAFE_INTEGER, 'a whole number below 2^53').default(0);

/** The density of model `j`: the shared number, or its entry of a per-model list. */
export function densityOf(density: number | readonly number[], j: number): number {
  return typeof density === 'number' ? density : density[j]!;
}

/** A per-model density list must have one entry per model: checked before any tensor is read. */
export function checkDensityCount(method: string, density: number | readonly number[], models: number): void {
  if (typeof density !== 'number' && density.length !== models) {
    throw new InputError([{ path: `${method}.density`, expected: `one density per model (${models})`, found: `a list of ${density.length}` }], `Invalid parameters for merge method "${method}"`);
  }
}

function valueAt(value: unknown, path: readonly PropertyKey[]): string {
  let v = value;
  for (const key of path) v = (v as Record<PropertyKey, unknown> | undefined)?.[key];
  if (v === undefined) return 'nothing';
  return typeof v === 'number' && !Number.isFinite(v) ? String(v) : (JSON.stringify(v) ?? String(v));
}

/** The names of a method's parameters, when its schema is a zod object (for "unknown parameter" messages). */
export function parameterNames(method: MergeMethod): string[] {
  const shape = (method.parameters as unknown as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

/**
 * Validates parameters against a method's schema and fills in the defaults. An {@link InputError} names each bad
 * parameter (`ties.density`), the expected range and the value found; an unknown key lists the known ones.
 * `where` prefixes the paths (a YAML file's `parameters`), `file` names the source.
 */
export function parseMergeParams<P extends Record<string, unknown>>(method: MergeMethod<P>, params: unknown, file?: string): P {
  if (params !== undefined && (params === null || typeof params !== 'object' || Array.isArray(params))) {
    throw new InputError([{ ...(file ? { file } : {}), path: method.id, expected: 'an object of parameters', found: valueAt(params, []) }], `Invalid parameters for merge method "${method.id}"`);
  }
  const parsed = method.parameters.safeParse(params ?? {});
  if (parsed.success) return parsed.data;
  const known = parameterNames(method as unknown as MergeMethod);
  const issues = parsed.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          ...(file ? { file } : {}),
          path: `${method.id}.${key}`,
          expected: known.length ? `one of the parameters ${known.join(', ')}` : 'no parameters (this method takes none)',
          found: `the unknown parameter ${JSON.stringify(key)}`,
        }))
      : [{ ...(file ? { file } : {}), path: [method.id, ...issue.path.map(String)].join('.'), expected: issue.message, found: valueAt(params, issue.path) }],
  );
  throw new InputError(issues, `Invalid parameters for merge method "${method.id}"`);
}

/** Checks the number of models against what the method merges; the error names the method and both counts. */
export function checkModelCount(method: MergeMethod, count: number): void {
  const { min, max } = method.models;
  if (count >= min && (max === undefined || count <= max)) return;
  const expected = max === min ? `exactly ${min}` : max === undefined ? `at least ${min}` : `${min} to ${max}`;
  throw new XltError(`Merge method "${method.id}" merges ${expected} model(s) besides the base, found ${count}`);
}
