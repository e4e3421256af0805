import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  InputError,
  describeFound,
  formatPath,
  parseLocated,
  readLocated,
  type FloatDtype,
  type InputIssue,
  type LocatedDocument,
  type MergeMethod,
  type PluginRegistry,
} from '@xlt/plugin-api';
import type { WeightedPath } from '../average-checkpoints.js';
import { mergeMethodRegistry } from './builtins.js';
import { parameterNames } from './parameters.js';

/** A merge read from a mergekit YAML: what `mergeCheckpoints` needs. */
export interface MergeConfig {
  readonly file: string;
  readonly method: string;
  /** The method's parameters as written (`parameters`, plus per-model densities as a list); defaults not filled in. */
  readonly params: Record<string, unknown>;
  /** The models with their weights, paths resolved against the YAML's folder. */
  readonly models: WeightedPath[];
  readonly base?: string;
  readonly dtype?: FloatDtype;
}

const ROOT_KEYS = ['merge_method', 'base_model', 'models', 'parameters', 'dtype', 'out_dtype'];
const DTYPES: Record<string, FloatDtype> = { float16: 'F16', bfloat16: 'BF16', float32: 'F32', float64: 'F64', F16: 'F16', BF16: 'BF16', F32: 'F32', F64: 'F64' };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Parses a mergekit merge config (YAML or JSON) for the methods xlt and mergekit share: `merge_method`,
 * `base_model`, `models: [{ model, parameters: { weight, density } }]`, `parameters` (the method's, e.g. `lambda`,
 * `normalize`, `t`, `density`, plus a default `weight`) and `dtype` / `out_dtype` (`float16`, `bfloat16`,
 * `float32`, `float64`). Model paths are local checkpoints (file or HF folder) relative to the YAML's folder. As
 * in mergekit, a model that is also the `base_model` is not merged into itself, and for `slerp` the `base_model`
 * (one of the two models) is the `t = 0` end. Anything else (`slices`, hub ids, unknown keys, parameters the method
 * lacks) is an {@link InputError} naming the file, line and YAML path; parameter values are checked when merging.
 */
export function parseMergeConfig(text: string, file: string, methods: PluginRegistry<MergeMethod> = mergeMethodRegistry()): MergeConfig {
  return fromDocument(parseLocated(text, file), methods);
}

/** {@link parseMergeConfig} on a file. */
export async function readMergeConfig(file: string, methods: PluginRegistry<MergeMethod> = mergeMethodRegistry()): Promise<MergeConfig> {
  return fromDocument(await readLocated(file), methods);
}

function fromDocument(doc: LocatedDocument, methods: PluginRegistry<MergeMethod>): MergeConfig {
  const issues: InputIssue[] = [];
  const issue = (path: PropertyKey[], expected: string, found: string) => issues.push({ file: doc.file, ...doc.locate(path), path: formatPath(path), expected, found });
  const fail = () => new InputError(issues, `${doc.file}: not a merge config xlt can run`);
  const root = doc.value;
  if (!isObject(root)) {
    issue([], 'a mapping with merge_method and models', describeFound(root));
    throw fail();
  }
  for (const key of Object.keys(root)) {
    if (!ROOT_KEYS.includes(key)) issue([key], `one of the keys ${ROOT_KEYS.join(', ')} (xlt reads these mergekit keys)`, `the unsupported key ${JSON.stringify(key)}`);
  }
  const methodId = root['merge_method'];
  if (typeof methodId !== 'string' || !methods.has(methodId)) {
    issue(['merge_method'], `one of ${methods.ids().join(', ')}`, describeFound(methodId));
    throw fail();
  }
  const method = methods.get(methodId);
  const known = parameterNames(method);
  const folder = dirname(doc.file);
  const localPath = (path: PropertyKey[], value: unknown): string | undefined => {
    if (typeof value !== 'string' || value === '') return void issue(path, 'the path of a local checkpoint (a .safetensors file or an HF model folder)', describeFound(value));
    const full = resolve(folder, value);
    if (!existsSync(full)) return void issue(path, `an existing checkpoint (resolved against ${folder})`, `no file or folder ${full}`);
    return full;
  };
  const global = root['parameters'] ?? {};
  const params: Record<string, unknown> = {};
  let defaultWeight = 1;
  if (!isObject(global)) issue(['parameters'], 'a mapping of parameters', describeFound(global));
  else {
    for (const [key, value] of Object.entries(global)) {
      if (key === 'weight' && method.usesWeights) {
        if (typeof value === 'number' && Number.isFinite(value) && value >= 0) defaultWeight = value;
        else issue(['parameters', key], 'a finite number >= 0', describeFound(value));
      } else if (known.includes(key)) params[key] = value;
      else issue(['parameters', key], known.length ? `one of the ${method.id} parameters ${[...known, ...(method.usesWeights ? ['weight'] : [])].join(', ')}` : `no parameters (${method.id} takes none)`, `the unknown parameter ${JSON.stringify(key)}`);
    }
  }
  let base: string | undefined;
  if (root['base_model'] !== undefined) base = localPath(['base_model'], root['base_model']);
  else if (method.base === 'required') issue(['base_model'], `the pretrained model (${method.id} merges task vectors relative to it)`, 'nothing');
  const list = root['models'];
  const models: WeightedPath[] = [];
  const densities: (number | undefined)[] = [];
  if (!Array.isArray(list) || list.length === 0) issue(['models'], 'a non-empty list of { model, parameters }', describeFound(list));
  else {
    list.forEach((entry, i) => {
      const at = ['models', i];
      if (!isObject(entry)) return void issue(at, 'a mapping { model, parameters }', describeFound(entry));
      for (const key of Object.keys(entry)) if (key !== 'model' && key !== 'parameters') issue([...at, key], 'model or parameters', `the unsupported key ${JSON.stringify(key)}`);
      const path = localPath([...at, 'model'], entry['model']);
      const p = entry['parameters'] ?? {};
      let weight = defaultWeight;
      let density: number | undefined;
      if (!isObject(p)) issue([...at, 'parameters'], 'a mapping { weight, density }', describeFound(p));
      else {
        for (const [key, value] of Object.entries(p)) {
          if (key === 'weight' && method.usesWeights) {
            if (typeof value === 'number' && Number.isFinite(value) && value >= 0) weight = value;
            else issue([...at, 'parameters', key], 'a finite number >= 0', describeFound(value));
          } else if (key === 'density' && known.includes('density')) {
            if (typeof value === 'number') density = value;
            else issue([...at, 'parameters', key], 'a number in (0, 1]', describeFound(value));
          } else {
            const allowed = [...(method.usesWeights ? ['weight'] : []), ...(known.includes('density') ? ['density'] : [])];
            issue([...at, 'parameters', key], allowed.length ? `one of the per-model parameters of ${method.id}: ${allowed.join(', ')}` : `no per-model parameters (${method.id} takes none)`, `the unknown parameter ${JSON.stringify(key)}`);
          }
        }
      }
      if (path === undefined) return;
      // mergekit leaves the base out of the models it merges relative to it (its task vector is zero)
      if (method.base === 'required' && path === base) return;
      models.push({ path, weight });
      densities.push(density);
    });
  }
  if (method.base === 'unused' && base !== undefined) {
    const first = models.findIndex((m) => m.path === base);
    if (method.id === 'slerp' && first >= 0) models.unshift(...models.splice(first, 1));
    else issue(['base_model'], method.id === 'slerp' ? 'one of the two models (the t = 0 end)' : `no base_model (${method.id} takes none)`, describeFound(root['base_model']));
  }
  if (densities.some((d) => d !== undefined)) {
    const shared = params['density'] ?? 1;
    if (typeof shared !== 'number') issue(['parameters', 'density'], 'one number when models set their own density', describeFound(shared));
    else params['density'] = densities.map((d) => d ?? shared);
  }
  const dtypeKey = root['out_dtype'] !== undefined ? 'out_dtype' : 'dtype';
  const dtypeValue = root[dtypeKey];
  const dtype = dtypeValue === undefined ? undefined : DTYPES[String(dtypeValue)];
  if (dtypeValue !== undefined && dtype === undefined) issue([dtypeKey], 'one of float16, bfloat16, float32, float64', describeFound(dtypeValue));
  if (issues.length) throw fail();
  return { file: doc.file, method: method.id, params, models, ...(base !== undefined && method.base === 'required' ? { base } : {}), ...(dtype ? { dtype } : {}) };
}
