import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '@xlt/plugin-api/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeToyCheckpoint } from '../testing/checkpoint-fixtures.js';
import { parseMergeConfig, readMergeConfig } from './mergekit-config.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('xlt-mergekit-config-'));
  for (const name of ['base', 'a', 'b', 'c']) await writeToyCheckpoint(join(dir, `${name}.safetensors`), name.charCodeAt(0));
});
afterAll(() => cleanup());

const parse = (yaml: string) => parseMergeConfig(yaml, join(dir, 'merge.yml'));

describe('mergekit YAML', () => {
  it('reads a TIES config: relative paths, per-model weight and density, global parameters, dtype; the base is not merged into itself', async () => {
    const file = join(dir, 'ties.yml');
    await writeFile(
      file,
      [
        'merge_method: ties',
        'base_model: base.safetensors',
        'models:',
        '  - model: base.safetensors',
        '  - model: a.safetensors',
        '    parameters: { weight: 0.7, density: 0.4 }',
        '  - model: b.safetensors',
        '    parameters:',
        '      weight: 0.3',
        'parameters:',
        '  density: 0.6',
        '  normalize: false',
        '  lambda: 0.9',
        'dtype: bfloat16',
        '',
      ].join('\n'),
    );
    expect(await readMergeConfig(file)).toEqual({
      file,
      method: 'ties',
      params: { density: [0.4, 0.6], normalize: false, lambda: 0.9 },
      models: [
        { path: join(dir, 'a.safetensors'), weight: 0.7 },
        { path: join(dir, 'b.safetensors'), weight: 0.3 },
      ],
      base: join(dir, 'base.safetensors'),
      dtype: 'BF16',
    });
  });

  it('slerp: base_model is the t = 0 end and comes first; a global weight is the default weight', () => {
    const config = parse('merge_method: slerp\nbase_model: b.safetensors\nmodels:\n  - model: a.safetensors\n  - model: b.safetensors\nparameters:\n  t: 0.25\n');
    expect(config.models.map((m) => m.path)).toEqual([join(dir, 'b.safetensors'), join(dir, 'a.safetensors')]);
    expect(config.params).toEqual({ t: 0.25 });
    expect(config.base).toBeUndefined();
    expect(parse('merge_method: linear\nparameters: { weight: 2 }\nmodels: [{ model: a.safetensors }, { model: b.safetensors, parameters: { weight: 1 } }]\n').models.map((m) => m.weight)).toEqual([2, 1]);
  });

  it('names the file, line and YAML path of everything it does not support', () => {
    const cases: [string, string | RegExp][] = [
      ['merge_method: ties\nbase_model: base.safetensors\nslices:\n  - sources: []\nmodels: [{ model: a.safetensors }]\n', `merge.yml:4:3 at slices: expected one of the keys merge_method, base_model, models, parameters, dtype, out_dtype (xlt reads these mergekit keys), found the unsupported key "slices"`],
      ['merge_method: della\nmodels: [{ model: a.safetensors }]\n', /merge\.yml:1:15 at merge_method: expected one of dare_linear, dare_ties, linear, model_stock, slerp, task_arithmetic, ties, found "della"/],
      ['merge_method: ties\nbase_model: base.safetensors\nmodels:\n  - model: a.safetensors\n  - model: b.safetensors\n    parameters: { gamma: 0.1 }\n', 'merge.yml:6:26 at models[1].parameters.gamma: expected one of the per-model parameters of ties: weight, density, found the unknown parameter "gamma"'],
      ['merge_method: ties\nmodels: [{ model: a.safetensors }]\n', 'at base_model: expected the pretrained model (ties merges task vectors relative to it), found nothing'],
      ['merge_method: linear\nmodels: [{ model: missing.safetensors }]\n', `merge.yml:2:19 at models[0].model: expected an existing checkpoint (resolved against ${dir}), found no file or folder ${join(dir, 'missing.safetensors')}`],
      ['merge_method: model_stock\nbase_model: base.safetensors\nmodels: [{ model: a.safetensors, parameters: { weight: 1 } }, { model: b.safetensors }]\n', 'at models[0].parameters.weight: expected no per-model parameters (model_stock takes none), found the unknown parameter "weight"'],
      ['merge_method: task_arithmetic\nbase_model: base.safetensors\nparameters: { lambda: 1, rescale: true }\nmodels: [{ model: a.safetensors }]\n', 'at parameters.rescale: expected one of the task_arithmetic parameters lambda, normalize, weight, found the unknown parameter "rescale"'],
      ['merge_method: linear\ndtype: int8\nmodels: [{ model: a.safetensors }]\n', 'merge.yml:2:8 at dtype: expected one of float16, bfloat16, float32, float64, found "int8"'],
      ['merge_method: linear\nbase_model: base.safetensors\nmodels: [{ model: a.safetensors }]\n', 'at base_model: expected no base_model (linear takes none), found "base.safetensors"'],
      ['merge_method: slerp\nbase_model: c.safetensors\nmodels: [{ model: a.safetensors }, { model: b.safetensors }]\n', 'at base_model: expected one of the two models (the t = 0 end), found "c.safetensors"'],
      ['- a\n- b\n', 'expected a mapping with merge_method and models, found an array of 2'],
      ['merge_method: linear\nmodels: [}\n', /merge\.yml:2:\d+: expected valid JSON or YAML/],
    ];
    for (const [yaml, message] of cases) expect(() => parse(yaml), yaml).toThrow(message);
  });
});
