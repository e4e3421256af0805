import { ContainerModule } from 'inversify';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InputError, createEngine, AveragingStrategy, TaskPlugin } from '@xlt/plugin-api';
import { parseExperiment } from './load-experiment.js';

const testModule = new ContainerModule(({ bind }) => {
  bind(TaskPlugin).toConstantValue({
    id: 'pos',
    description: 'test task',
    optionsSchema: z.strictObject({ labelAllSubwords: z.boolean().default(false) }),
  } as unknown as TaskPlugin);
  bind(AveragingStrategy).toConstantValue({
    id: 'checkpoint-average',
    description: 'test strategy',
    scope: 'per-run',
    oracle: false,
    optionsSchema: z.strictObject({ lastK: z.number().int().positive().optional() }),
    plan: async () => [],
  } as AveragingStrategy);
});

const good = {
  name: 'pos-en',
  task: { id: 'pos', options: { labelAllSubwords: true } },
  model: 'models/tiny',
  source: { language: 'en', train: 'train.conllu', dev: 'dev.conllu' },
  targets: { de: { test: 'de.conllu' } },
  grid: { learningRate: [2e-5, 3e-5], seeds: [1, 2] },
  strategies: ['checkpoint-average'],
};

describe('experiment config', () => {
  it('accepts a valid config and fills defaults', async () => {
    const engine = await createEngine([testModule]);
    const config = parseExperiment(JSON.stringify(good, null, 2), 'exp.json', engine);
    expect(config.grid.batchSize).toEqual([32]);
    expect(config.setup).toEqual({ mode: 'zero-shot' });
  });

  it('reports three different mistakes with their paths, lines and what was found', async () => {
    const engine = await createEngine([testModule]);
    const bad = {
      ...good,
      task: { id: 'pos', options: { labelAllSubwords: 'yes' } },
      grid: { learningRate: [2e-5, 'fast'], seeds: [1] },
      strategies: [{ id: 'checkpoint-average', options: { lastK: 0 } }, 'soup'],
    };
    const text = JSON.stringify(bad, null, 2);
    let error: unknown;
    try {
      parseExperiment(text, 'exp.json', engine);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    const issues = (error as InputError).issues;
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i]));
    expect(Object.keys(byPath).sort()).toEqual(
      ['grid.learningRate[1]', 'strategies[0].options.lastK', 'strategies[1]', 'task.options.labelAllSubwords'].sort(),
    );
    expect(byPath['grid.learningRate[1]']).toMatchObject({ expected: 'number', found: '"fast"', file: 'exp.json' });
    expect(byPath['task.options.labelAllSubwords']).toMatchObject({ expected: 'boolean', found: '"yes"' });
    expect(byPath['strategies[1]']!.expected).toContain('checkpoint-average');
    expect(byPath['strategies[0].options.lastK']!.expected).toContain('0');
    // lines point into the text
    const lines = text.split('\n');
    expect(lines[byPath['grid.learningRate[1]']!.line! - 1]).toContain('"fast"');
    expect(lines[byPath['strategies[1]']!.line! - 1]).toContain('"soup"');
    expect((error as Error).message).toMatch(/exp\.json:\d+:\d+ at grid\.learningRate\[1\]: expected number, found "fast"/);
  });

  it('reports missing fields, unknown keys and YAML syntax errors', async () => {
    const engine = await createEngine([testModule]);
    const { model: _model, ...noModel } = good;
    expect(() => parseExperiment(JSON.stringify({ ...noModel, learningrate: 1 }), 'e.json', engine)).toThrow(
      /at model: expected string, found nothing \(the field is missing\)[\s\S]*at learningrate: expected no such field/,
    );
    expect(() => parseExperiment('name: [unclosed', 'e.yaml', engine)).toThrow(/e\.yaml:1:\d+: expected valid JSON or YAML/);
    expect(() => parseExperiment('{"name": "x", "name": "y"}', 'dup.json', engine)).toThrow(/dup\.json/);
  });

  it('refuses a grid that repeats a value, a fractional epoch count and a warm-up outside [0, 1], each at its path', async () => {
    const engine = await createEngine([testModule]);
    const bad = { ...good, grid: { seeds: [1, 1], epochs: [1.5], warmup: [5], learningRate: [2e-5, 2e-5] } };
    let error: unknown;
    try {
      parseExperiment(JSON.stringify(bad, null, 2), 'grid.json', engine);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    const byPath = Object.fromEntries((error as InputError).issues.map((i) => [i.path, i.expected]));
    expect(Object.keys(byPath).sort()).toEqual(['grid.epochs[0]', 'grid.learningRate', 'grid.seeds', 'grid.warmup[0]']);
    expect(byPath['grid.seeds']).toContain('distinct values');
    expect(byPath['grid.warmup[0]']).toBe('≤ 1');
  });
});
