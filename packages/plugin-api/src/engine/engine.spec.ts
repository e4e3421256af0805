import { ContainerModule, injectable } from 'inversify';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AveragingStrategy } from '../plugins/averaging.js';
import { TaskPlugin } from '../plugins/task.js';
import { createEngine } from './engine.js';
import { DuplicatePluginError, UnknownPluginError } from './registry.js';

/** A minimal task: only what the engine looks at (id, description); the rest is never called here. */
function fakeTask(id: string): TaskPlugin {
  return { id, description: `fake ${id} task`, primaryMetric: 'accuracy', formats: [], optionsSchema: z.strictObject({ maxLength: z.number().optional() }) } as unknown as TaskPlugin;
}

@injectable()
class UniformStrategy implements AveragingStrategy {
  readonly id = 'uniform-test';
  readonly description = 'uniform weights over every checkpoint (test strategy)';
  readonly scope = 'across-runs' as const;
  readonly oracle = false;
  async plan(runs: Parameters<AveragingStrategy['plan']>[0]) {
    const all = runs.flatMap((r) => r.checkpoints);
    return all.map((checkpoint) => ({ checkpoint, weight: 1 / all.length }));
  }
}

const nliLike = new ContainerModule(({ bind }) => {
  bind(TaskPlugin).toConstantValue(fakeTask('nli-test'));
});
const posLike = new ContainerModule(({ bind }) => {
  bind(TaskPlugin).toConstantValue(fakeTask('pos-test'));
});
const strategyModule = new ContainerModule(({ bind }) => {
  bind(AveragingStrategy).to(UniformStrategy);
});

describe('createEngine', () => {
  it('collects task plugins and a strategy bound by separate modules', async () => {
    const engine = await createEngine([nliLike, posLike, strategyModule]);
    expect(engine.tasks.ids()).toEqual(['nli-test', 'pos-test']);
    expect(engine.tasks.get('pos-test').description).toBe('fake pos-test task');
    const strategy = engine.strategies.get('uniform-test');
    expect(strategy).toBeInstanceOf(UniformStrategy);
    const plan = await strategy.plan(
      [{ id: 'r', checkpoints: [{ path: 'a', run: 'r', step: 1 }, { path: 'b', run: 'r', step: 2 }] }],
      {},
      { primaryMetric: 'accuracy' },
    );
    expect(plan.map((p) => p.weight)).toEqual([0.5, 0.5]);
  });

  it('rejects two plugins with the same id, naming the id', async () => {
    const again = new ContainerModule(({ bind }) => {
      bind(TaskPlugin).toConstantValue(fakeTask('nli-test'));
    });
    await expect(createEngine([nliLike, again])).rejects.toThrow(DuplicatePluginError);
    await expect(createEngine([nliLike, again])).rejects.toThrow(/Two task plugins have the id "nli-test"/);
  });

  it('names the known ids when an unknown id is asked for', async () => {
    const engine = await createEngine([nliLike, posLike, strategyModule]);
    expect(() => engine.tasks.get('ner')).toThrow(UnknownPluginError);
    expect(() => engine.tasks.get('ner')).toThrow('Unknown task "ner". Known task ids: nli-test, pos-test.');
    expect(() => engine.strategies.get('soup')).toThrow('Known averaging strategy ids: uniform-test.');
    expect(() => engine.backends.get('gpu')).toThrow('No backend plugin is registered.');
  });
});
