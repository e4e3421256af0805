import { createEngine } from '@xlt/plugin-api';
import { experimentModule } from '../experiment-module.js';
import { runExperiment } from '../runner.js';
import { toyModule } from './toy-module.js';
import { toyServices } from './toy-services.js';

/** Entry of the child process that the kill-and-resume test interrupts: a slowed-down toy experiment. */
export async function main(args: readonly string[]): Promise<void> {
  const [configFile, out, delay] = args;
  const engine = await createEngine([toyModule, experimentModule]);
  await runExperiment(configFile!, { engine, services: toyServices({ stepDelayMs: Number(delay ?? 20) }), out, print: () => {}, stderr: () => {} });
}
