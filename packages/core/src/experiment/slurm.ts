import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { XltError } from '@xlt/plugin-api';
import { OVERRIDES_VARIABLE } from '../config/config-overrides.js';

/** Resources and limits of the job array that `xlt submit slurm` writes. */
export interface SlurmOptions {
  /** Experiment config (absolute). */
  readonly config: string;
  /** Output folder (absolute), shared by every task: the units meet there. */
  readonly out: string;
  /** Number of units: the array is `0-(units-1)`. */
  readonly units: number;
  readonly name: string;
  /** At most this many tasks at once (`%K`); default all. */
  readonly parallel?: number;
  readonly cpusPerTask?: number;
  readonly gpusPerTask?: number;
  /** Memory per task, as sbatch takes it (`16G`). */
  readonly mem?: string;
  /** Time limit per task, as sbatch takes it (`4:00:00`). */
  readonly time?: string;
  readonly partition?: string;
  /** Backend id passed on as `--backend` (else the config's). */
  readonly backend?: string;
  /** The command line that runs xlt on the nodes; default this Node and this installation's `bin/xlt.js`. */
  readonly xlt?: string;
  /** `--set` overrides of the submitting command (the `XLT_SET` value), exported in both scripts. */
  readonly overrides?: string;
}

/** The two scripts of a scale-out: the job array of units and the aggregate job that runs after it. */
export interface SlurmScripts {
  readonly array: string;
  readonly aggregate: string;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The `bin/xlt.js` of this installation (the same path from `src/experiment` and `dist/experiment`). */
export function xltBin(): string {
  return fileURLToPath(new URL('../../bin/xlt.js', import.meta.url));
}

/** This Node and the `xlt` of this installation, as the nodes (which share the file system) will run it. */
export function defaultXltCommand(): string {
  return `${quote(process.execPath)} ${quote(xltBin())}`;
}

/**
 * The job-array script (one task per unit, `--array=0-N%K`, requeueable, one GPU per task when asked) and the
 * aggregate script. Each task runs the same `xlt run` line; it picks its unit from `SLURM_ARRAY_TASK_ID`.
 */
export function slurmScripts(o: SlurmOptions): SlurmScripts {
  const xlt = o.xlt ?? defaultXltCommand();
  const run = `${xlt} run ${quote(o.config)} --out ${quote(o.out)}${o.backend ? ` --backend ${quote(o.backend)}` : ''}`;
  const logs = `${o.out}/slurm/logs`;
  const common = [
    ...(o.partition ? [`#SBATCH --partition=${o.partition}`] : []),
    ...(o.time ? [`#SBATCH --time=${o.time}`] : []),
    ...(o.mem ? [`#SBATCH --mem=${o.mem}`] : []),
  ];
  const cpus = o.cpusPerTask ?? 1;
  const threads = [
    '# Compute threads follow the CPUs SLURM gave the task.',
    'T=${SLURM_CPUS_PER_TASK:-1}',
    'export OMP_NUM_THREADS=$T OPENBLAS_NUM_THREADS=$T TF_NUM_INTRAOP_THREADS=$T XLT_NATIVE_THREADS=$T',
    ...(o.overrides ? ['# The --set overrides of `xlt submit`, so that every task loads the config that was planned.', `export ${OVERRIDES_VARIABLE}=${quote(o.overrides)}`] : []),
  ];
  const array = [
    '#!/bin/bash',
    `#SBATCH --job-name=xlt-${o.name}`,
    `#SBATCH --array=0-${o.units - 1}${o.parallel ? `%${o.parallel}` : ''}`,
    `#SBATCH --cpus-per-task=${cpus}`,
    ...(o.gpusPerTask ? [`#SBATCH --gpus-per-task=${o.gpusPerTask}`] : []),
    ...common,
    '#SBATCH --requeue',
    `#SBATCH --output=${logs}/unit-%a.out`,
    '# One unit (a run of the grid) per task, picked by SLURM_ARRAY_TASK_ID. A finished unit is a no-op; a killed or',
    '# requeued one resumes from its newest checkpoint; a unit another process holds is reported and skipped.',
    'set -euo pipefail',
    ...threads,
    `exec ${run}`,
    '',
  ].join('\n');
  const aggregate = [
    '#!/bin/bash',
    `#SBATCH --job-name=xlt-${o.name}-aggregate`,
    `#SBATCH --cpus-per-task=${cpus}`,
    ...(o.gpusPerTask ? [`#SBATCH --gpus-per-task=${o.gpusPerTask}`] : []),
    ...common,
    `#SBATCH --output=${logs}/aggregate.out`,
    '# Averaging, evaluation on every target language and the report, once every unit is done (afterok).',
    'set -euo pipefail',
    ...threads,
    `exec ${run} --aggregate`,
    '',
  ].join('\n');
  return { array, aggregate };
}

/** Runs `sbatch --parsable` and returns the job id it prints. */
export async function sbatch(script: string, args: readonly string[] = []): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('sbatch', ['--parsable', ...args, script], { encoding: 'utf8' });
    const id = stdout.trim().split(';')[0]!;
    if (!/^\d+$/.test(id)) throw new XltError(`sbatch printed "${stdout.trim()}" for ${script}, not a job id.`);
    return id;
  } catch (error) {
    if (error instanceof XltError) throw error;
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new XltError('sbatch was not found: run `xlt submit slurm` on a SLURM login node, or without --submit to only write the scripts.');
    throw new XltError(`sbatch failed for ${script}: ${(e.stderr ?? e.message).trim()}`);
  }
}
