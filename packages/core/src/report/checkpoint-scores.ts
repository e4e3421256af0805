import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Metrics } from '@xlt/plugin-api';

/** One checkpoint's dev scores, as a run's `done.json` records them. */
export interface CheckpointScores {
  /** Optimizer step at which the checkpoint was saved. */
  readonly step: number;
  /** Metrics of the checkpoint by target language (the data the oracle selects on); empty when targets have no dev. */
  readonly targetDev: Readonly<Record<string, Metrics>>;
  /** Metrics of the checkpoint on the source language's dev data, when the experiment has it. */
  readonly sourceDev?: Metrics;
  /** Source-dev metrics of the average of checkpoints 1..k, recorded when the targets have no dev data. */
  readonly prefixAverageSourceDev?: Metrics;
  /**
   * Metrics by target language of the uniform average of this checkpoint and every earlier one of the run
   * (checkpoint averaging over the first k checkpoints), which the runner records with an oracle and a merger
   * (`prefixAverageScores`); the trajectory view then plots checkpoint averaging over training as well.
   */
  readonly prefixAverageTargetDev?: Readonly<Record<string, Metrics>>;
}

/** The per-checkpoint dev scores of one finished run, checkpoints in step order. */
export interface RunCheckpointScores {
  readonly run: string;
  readonly hyperparameters: Readonly<Record<string, unknown>>;
  readonly checkpoints: readonly CheckpointScores[];
}

interface StoredCheckpoint {
  readonly step?: unknown;
  readonly targetDev?: Record<string, Metrics>;
  readonly prefixAverageTargetDev?: Record<string, Metrics>;
  readonly sourceDev?: Metrics;
  readonly prefixAverageSourceDev?: Metrics;
}

/**
 * Reads `runs/<run>/done.json` of every finished run under an experiment's output folder and keeps the runs whose
 * checkpoints were all scored on target-language dev data (the runner does that when an oracle strategy runs and
 * the targets have dev data) or all on source dev data. Unfinished, damaged or unscored runs are left out; no run
 * at all gives `[]`.
 */
export async function readCheckpointScores(outDir: string): Promise<RunCheckpointScores[]> {
  let runs: string[];
  try {
    runs = (await readdir(join(outDir, 'runs'), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw error;
  }
  const out: RunCheckpointScores[] = [];
  for (const dir of runs) {
    let marker: { run?: string; hyperparameters?: Record<string, unknown>; checkpoints?: StoredCheckpoint[] };
    try {
      marker = JSON.parse(await readFile(join(outDir, 'runs', dir, 'done.json'), 'utf8'));
    } catch {
      continue; // not finished, or damaged: the runner redoes it, the report leaves it out
    }
    const stored = Array.isArray(marker.checkpoints) ? marker.checkpoints : [];
    const scored = (c: StoredCheckpoint) => (c.targetDev && Object.keys(c.targetDev).length > 0) || (c.sourceDev && Object.keys(c.sourceDev).length > 0);
    if (stored.length === 0 || !stored.every((c) => typeof c.step === 'number' && scored(c))) continue;
    const checkpoints = stored
      .map(
        (c): CheckpointScores => ({
          step: c.step as number,
          targetDev: c.targetDev ?? {},
          ...(c.prefixAverageTargetDev ? { prefixAverageTargetDev: c.prefixAverageTargetDev } : {}),
          ...(c.sourceDev ? { sourceDev: c.sourceDev } : {}),
          ...(c.prefixAverageSourceDev ? { prefixAverageSourceDev: c.prefixAverageSourceDev } : {}),
        }),
      )
      .sort((a, b) => a.step - b.step);
    out.push({ run: marker.run ?? dir, hyperparameters: marker.hyperparameters ?? {}, checkpoints });
  }
  return out;
}
