import { ContainerModule } from 'inversify';
import { describe, expect, it } from 'vitest';
import { InputError, TaskPlugin, createEngine, parseLocated } from '@xlt/plugin-api';
import { applyOverrides, overridesFromEnvironment, overridesVariableValue, parseOverride } from './config-overrides.js';
import { parseExperiment } from './load-experiment.js';

const taskModule = new ContainerModule(({ bind }) => {
  bind(TaskPlugin).toConstantValue({ id: 'pos', description: 'test task' } as unknown as TaskPlugin);
});

const config = {
  name: 'pos-en',
  task: 'pos',
  model: 'models/tiny',
  source: { language: 'en', train: 'train.conllu' },
  targets: { de: { test: 'de.conllu' } },
  grid: { learningRate: [2e-5], seeds: [1] },
};
const text = JSON.stringify(config, null, 2);

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('--set path=value', () => {
  it('parses scalars, flow lists and objects as YAML/JSON, and paths with indices', () => {
    expect(parseOverride('training.maxLength=256')).toEqual({ text: 'training.maxLength=256', path: ['training', 'maxLength'], value: 256 });
    expect(parseOverride('grid.learningRate=3e-5').value).toBe(3e-5);
    expect(parseOverride('grid.seeds=[1,2,3]').value).toEqual([1, 2, 3]);
    expect(parseOverride('grid.schedule=[linear, constant]').value).toEqual(['linear', 'constant']);
    expect(parseOverride('model=org/name').value).toBe('org/name');
    expect(parseOverride('setup={mode: few-shot, shots: 10}').value).toEqual({ mode: 'few-shot', shots: 10 });
    expect(parseOverride('strategies[1].options.lastK=2').path).toEqual(['strategies', 1, 'options', 'lastK']);
    expect(parseOverride('name="a=b"').value).toBe('a=b');
  });

  it.each([
    ['grid.seeds', /--set grid.seeds: expected path=value, e.g. --set grid.seeds=\[1,2,3\], found no "="/],
    ['=3', /found no path before "="/],
    ['grid..seeds=1', /expected a path of keys and \[index\]es separated by dots.*found "grid..seeds"/],
    ['[0].x=1', /found "\[0\].x"/],
    ['grid.seeds=', /expected a value after "="/],
    ['grid.seeds=[1,2', /--set grid.seeds=\[1,2: expected valid JSON or YAML/],
  ])('refuses %j, naming the flag', (flag, message) => {
    expect(inputError(() => parseOverride(flag)).message).toMatch(message);
  });

  it('sets values in a copy of the document, creating missing objects, and keeps the file positions of the rest', () => {
    const doc = parseLocated(text, 'exp.json');
    const out = applyOverrides(doc, [parseOverride('grid.seeds=[1,2]'), parseOverride('training.head.epochs=2'), parseOverride('grid.seeds=[3]')]);
    expect((out.value as typeof config).grid).toEqual({ learningRate: [2e-5], seeds: [3] });
    expect((out.value as Record<string, unknown>)['training']).toEqual({ head: { epochs: 2 } });
    expect((doc.value as typeof config).grid.seeds).toEqual([1]);
    expect(out.locate(['grid', 'learningRate'])).toEqual(doc.locate(['grid', 'learningRate']));
    expect(out.locate(['grid', 'seeds', 0])).toEqual({});
  });

  it('refuses a path through a value that is not an object or past the end of a list', () => {
    const doc = parseLocated(text, 'exp.json');
    expect(inputError(() => applyOverrides(doc, [parseOverride('name.first=x')])).message).toMatch(/--set name.first=x at name: expected an object or a list .*found "pos-en"/);
    expect(inputError(() => applyOverrides(doc, [parseOverride('grid.seeds[5]=1')])).message).toMatch(/at grid.seeds\[5\]: expected an index up to 1 \(the list has 1 item\), found 5/);
    expect(inputError(() => applyOverrides(doc, [parseOverride('grid[0]=1')])).message).toMatch(/at grid: expected a list/);
  });

  it('reports an unknown key or a bad value by the --set that put it there, other mistakes by their line', async () => {
    const engine = await createEngine([taskModule]);
    const bad = text.replace('"model": "models/tiny",', '"model": "models/tiny",\n  "epochs": 3,');
    const error = inputError(() => parseExperiment(bad, 'exp.json', engine, [parseOverride('grid.sedes=[1,2]'), parseOverride('grid.learningRate=[fast]')]));
    expect(error.message).toContain('--set grid.sedes=[1,2] (over exp.json) at grid.sedes: expected no such field (unknown key), found "sedes"');
    expect(error.message).toContain('--set grid.learningRate=[fast] (over exp.json) at grid.learningRate[0]: expected number, found "fast"');
    expect(error.message).toContain('exp.json:5:13 at epochs: expected no such field (unknown key)');
  });

  it('validates the overridden document and fills defaults', async () => {
    const engine = await createEngine([taskModule]);
    const parsed = parseExperiment(text, 'exp.json', engine, [parseOverride('grid.seeds=[1,2,3]'), parseOverride('grid.learningRate=[3e-5, 5e-5]')]);
    expect(parsed.grid.seeds).toEqual([1, 2, 3]);
    expect(parsed.grid.learningRate).toEqual([3e-5, 5e-5]);
    expect(parsed.grid.batchSize).toEqual([32]);
  });

  it('travels to child processes in XLT_SET as a JSON list of the flags, and refuses anything else there', () => {
    const overrides = [parseOverride('grid.seeds=[1,2]'), parseOverride('training.maxLength=64')];
    const env = { XLT_SET: overridesVariableValue(overrides) };
    expect(overridesFromEnvironment(env)).toEqual(overrides);
    expect(overridesFromEnvironment({})).toEqual([]);
    expect(inputError(() => overridesFromEnvironment({ XLT_SET: 'grid.seeds=[1]' })).message).toMatch(/\$XLT_SET: expected a JSON array of "path=value" strings/);
  });
});
