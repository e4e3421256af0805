/**
 * Child process of the kill-and-resume test: trains the toy task on tfjs-cpu in the given run folder, optionally
 * resuming and sleeping after each step (so the parent can kill it mid-run). Prints the result as JSON.
 * Usage: node kill-resume-child.testing.js <runDir> [--resume] [--delay-ms N]
 */
import { bertProvider } from '../encoders/bert-provider.js';
import { train } from './train.js';
import { tinyRuntime, toyContext, toyFeatures, toyHead, toyTask } from './tiny-training.testing.js';

const [runDir, ...flags] = process.argv.slice(2);
const delayIndex = flags.indexOf('--delay-ms');
const delay = delayIndex >= 0 ? Number(flags[delayIndex + 1]) : 0;
const result = await train({
  runDir: runDir!,
  runtime: await tinyRuntime(1),
  provider: bertProvider,
  task: toyTask,
  head: toyHead(16),
  context: toyContext,
  features: toyFeatures(30),
  options: {
    learningRate: 1e-3,
    batchSize: 3,
    gradientAccumulationSteps: 2,
    epochs: 2,
    seed: 11,
    warmupSteps: 2,
    checkpointEverySteps: 2,
    resume: flags.includes('--resume'),
  },
  onStep: delay > 0 ? () => new Promise((resolve) => setTimeout(resolve, delay)) : undefined,
});
process.stdout.write(`${JSON.stringify({ resumedFrom: result.resumedFrom ?? null, steps: result.checkpoints.map((c) => c.step) })}\n`);
