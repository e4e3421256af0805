import { ContainerModule } from 'inversify';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEngine, InputError, AveragingStrategy, TaskPlugin } from '@xlt/plugin-api';
import { parseExperiment } from './load-experiment.js';
import { strategyEntries } from './strategy-names.js';

const testModule = new ContainerModule(({ bind }) => {
  bind(TaskPlugin).toConstantValue({ id: 'pos', description: 'test task' } as unknown as TaskPlugin);
  for (const id of ['checkpoint-average', 'last']) {
    bind(AveragingStrategy).toConstantValue({
      id,
      description: 'test strategy',
      scope: 'per-run',
      oracle: false,
      optionsSchema: z.strictObject({ lastK: z.number().int().positive().optional(), fromStep: z.number().optional() }),
      plan: async () => [],
    } as AveragingStrategy);
  }
});
const base = { name: 'e', task: 'pos', model: 'm', source: { language: 'en', train: 't' }, targets: { de: { test: 'd' } } };

describe('strategy names', () => {
  it('default to the id, and to id[options] when one id is listed more than once without names', () => {
    expect(strategyEntries(['last', { id: 'checkpoint-average', options: { lastK: 2 } }]).map((e) => e.name)).toEqual(['last', 'checkpoint-average']);
    const ablation = strategyEntries([
      'checkpoint-average',
      { id: 'checkpoint-average', options: { lastK: 1 } },
      { id: 'checkpoint-average', options: { fromStep: 20, lastK: 3 } },
      { id: 'checkpoint-average', name: 'ca-tail', options: { lastK: 2 } },
    ]);
    expect(ablation.map((e) => e.name)).toEqual(['checkpoint-average', 'checkpoint-average[lastK=1]', 'checkpoint-average[fromStep=20,lastK=3]', 'ca-tail']);
    expect(ablation.map((e) => e.path)).toEqual(['strategies[0]', 'strategies[1]', 'strategies[2]', 'strategies[3]']);
    expect(ablation[1]).toMatchObject({ id: 'checkpoint-average', options: { lastK: 1 } });
  });

  it('refuses two entries with the same name, naming both JSON paths', async () => {
    const engine = await createEngine([testModule]);
    const text = JSON.stringify({ ...base, strategies: ['checkpoint-average', 'last', { id: 'checkpoint-average', options: {} }] }, null, 2);
    const error = (() => {
      try {
        parseExperiment(text, 'exp.json', engine);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InputError);
    const [issue] = (error as InputError).issues;
    expect(issue).toMatchObject({ path: 'strategies[2]', file: 'exp.json', found: '"checkpoint-average", the name of strategies[0] too' });
    expect(text.split('\n')[issue!.line! - 1]).toContain('{');
    expect((error as Error).message).toMatch(/exp\.json:\d+:\d+ at strategies\[2\]: expected a strategy name no other entry has \(add "name" to one of them\), found "checkpoint-average", the name of strategies\[0\] too/);

    // An explicit name may not take another entry's name either; distinct names are accepted.
    expect(() => parseExperiment(JSON.stringify({ ...base, strategies: ['last', { id: 'checkpoint-average', name: 'last' }] }), 'e.json', engine)).toThrow(/at strategies\[1\]: .*found "last", the name of strategies\[0\] too/);
    const ok = parseExperiment(JSON.stringify({ ...base, strategies: ['checkpoint-average', { id: 'checkpoint-average', options: { lastK: 1 } }] }), 'e.json', engine);
    expect(strategyEntries(ok.strategies!).map((e) => e.name)).toEqual(['checkpoint-average', 'checkpoint-average[lastK=1]']);
  });

  it('refuses a name that cannot name a folder', async () => {
    const engine = await createEngine([testModule]);
    expect(() => parseExperiment(JSON.stringify({ ...base, strategies: [{ id: 'last', name: '../x' }] }), 'e.json', engine)).toThrow(
      /at strategies\[0\]\.name: expected a name of letters, digits and \. _ = , \+ \[ \] - \(it names folders\), found "\.\.\/x"/,
    );
  });
});
