import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@xlt/plugin-api';

/**
 * Where everything of an experiment lives, in a layout a person can browse: `head/` (the shared head),
 * `runs/<run>/checkpoint-<step>/` (and `retention.json` once checkpoints were deleted), `models/<strategy name>/<run or group>[/<lang>]/`
 * (across-run models with the `runs.json` they were built from),
 * `eval/<strategy name>/<run or group>/<lang>/{predictions.txt,metrics.json}`, `results.{json,csv}`, `report.html`,
 * `provenance.json`.
 * Each step leaves a marker file written last and atomically, so a re-run skips exactly what is complete.
 */
export class ExperimentLayout {
  constructor(readonly root: string) {}

  /** The experiment as it was run: a re-run into the same folder must have the same settings. */
  get manifest(): string {
    return join(this.root, 'experiment.json');
  }
  /** Folder of the shared head (`training.head.protocol: shared-frozen`). */
  get headDir(): string {
    return join(this.root, 'head');
  }
  /** Marker of a finished head phase: its settings, seed, steps and the head file's hash. */
  get headDone(): string {
    return join(this.headDir, 'head.json');
  }
  /** Versions, machine, timings and input hashes of the last `xlt run` into this folder. */
  get provenance(): string {
    return join(this.root, 'provenance.json');
  }
  /** Lock file of one piece of work (`head`, `run=<key>`) while a process does it; see `withWorkLock`. */
  lockFile(work: string): string {
    return join(this.root, 'locks', `${work}.lock`);
  }
  runDir(run: string): string {
    return join(this.root, 'runs', run);
  }
  /** Marker of a finished run: its checkpoints with their dev metrics. */
  runDone(run: string): string {
    return join(this.runDir(run), 'done.json');
  }
  /** The model of a strategy for a run or group (and a language, for per-language oracle models). */
  modelDir(strategy: string, run: string, language?: string): string {
    return language ? join(this.root, 'models', strategy, run, language) : join(this.root, 'models', strategy, run);
  }
  /** Marker of a built model: the plan and where the weights are. */
  modelDone(strategy: string, run: string, language?: string): string {
    return join(this.modelDir(strategy, run, language), 'plan.json');
  }
  /**
   * The runs an across-run model (run averaging, CA+RA) of a group was built from: when the grid grows and the
   * group gains runs, its models and evaluations are rebuilt.
   */
  modelRuns(strategy: string, group: string): string {
    return join(this.modelDir(strategy, group), 'runs.json');
  }
  /** The evaluations of a strategy's model for a run or group, every language. */
  evalRoot(strategy: string, run: string): string {
    return join(this.root, 'eval', strategy, run);
  }
  /** Checkpoints of a finished run that `retention` deleted, written before they are deleted. */
  runRetention(run: string): string {
    return join(this.runDir(run), 'retention.json');
  }
  evalDir(strategy: string, run: string, language: string): string {
    return join(this.root, 'eval', strategy, run, language);
  }
  predictions(strategy: string, run: string, language: string): string {
    return join(this.evalDir(strategy, run, language), 'predictions.txt');
  }
  /** Marker of a finished evaluation (written after the predictions). */
  metrics(strategy: string, run: string, language: string): string {
    return join(this.evalDir(strategy, run, language), 'metrics.json');
  }
}

/** Reads a JSON marker; `undefined` when it does not exist (a step not done yet) or is damaged (see below). */
export async function readMarker<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    // Markers are written atomically, so a damaged one comes from outside (a full disk, a copy cut short). It only
    // records work that can be redone: keep it aside as evidence and do the work again instead of failing forever.
    const aside = `${file}.damaged`;
    await rename(file, aside);
    process.stderr.write(`[xlt] ${file} is damaged (${(error as Error).message}); moved it to ${aside} and doing that work again.\n`);
    return undefined;
  }
}

/** Writes a JSON marker atomically: it exists complete or not at all. */
export async function writeMarker(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}
