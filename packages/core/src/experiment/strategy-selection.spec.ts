import { ContainerModule } from 'inversify';
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../config/load-experiment.js';
import { createEngine, AveragingStrategy } from '@xlt/plugin-api';
import { experimentModule } from './experiment-module.js';
import { selectStrategies } from './strategies.js';
import { toyModule } from './testing/toy-module.js';

/** A strategy that ranks on source dev, as `best-source-dev` and greedy soup do. */
const ranksOnSourceDev: AveragingStrategy = {
  id: 'ranks-on-dev', description: 'picks the best checkpoint on source dev', scope: 'per-run', oracle: false, needsSourceDev: true,
  plan: async ([run]) => [{ checkpoint: run!.checkpoints[0]!, weight: 1 }],
};
const devModule = new ContainerModule(({ bind }) => {
  bind(AveragingStrategy).toConstantValue(ranksOnSourceDev);
});

const config = (extra: Record<string, unknown>) =>
  JSON.stringify({ name: 'x', task: 'toy', model: 'm', source: { language: 'en', train: 't.tsv' }, targets: { de: { test: 'd.tsv' } }, ...extra });

describe('strategies that rank on source dev', () => {
  it('are left out of the defaults, with a note, when the config has no source.dev', async () => {
    const engine = await createEngine([toyModule, experimentModule, devModule]);
    const notes: string[] = [];
    const chosen = selectStrategies(parseExperiment(config({}), 'x.json', engine), engine, false, (l) => notes.push(l));
    expect(chosen.map((s) => s.id)).not.toContain('ranks-on-dev');
    expect(chosen.length).toBeGreaterThan(0);
    expect(notes.join('\n')).toMatch(/"ranks-on-dev" ranks checkpoints on source-language dev data .*no "source.dev": left out/);
  });

  it('run when the config has source.dev', async () => {
    const engine = await createEngine([toyModule, experimentModule, devModule]);
    const withDev = parseExperiment(config({ source: { language: 'en', train: 't.tsv', dev: 'dev.tsv' } }), 'x.json', engine);
    expect(selectStrategies(withDev, engine, false, () => {}).map((s) => s.id)).toContain('ranks-on-dev');
  });

  it('are refused before training, naming the config path, when listed without source.dev', async () => {
    const engine = await createEngine([toyModule, experimentModule, devModule]);
    const listed = parseExperiment(config({ strategies: ['last', 'ranks-on-dev'] }), 'x.json', engine);
    expect(() => selectStrategies(listed, engine, false, () => {})).toThrow(/strategies\[1\]: strategy "ranks-on-dev" ranks checkpoints on source-language dev data.*no "source.dev"/);
  });
});
