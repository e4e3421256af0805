import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { type CliCommand, type Engine, matching, positiveInt, writeFileAtomic, XltError } from '@xlt/plugin-api';
import { engineServices } from './engine-services.js';
import { prepareExperiment } from './experiment-context.js';
import { experimentArguments, type ExperimentFlags, type ServicesFactory } from './commands.js';
import { planUnits } from './units.js';
import { sbatch, slurmScripts } from './slurm.js';
import { indexedJobManifests } from './kubernetes.js';
import type { ExperimentContext } from './experiment-context.js';
import { OVERRIDES_VARIABLE } from '../config/config-overrides.js';

/** `xlt plan EXPERIMENT`: the units (runs) with their stable indices and status, and how to run each. */
export function planCommand(services: ServicesFactory = engineServices): CliCommand {
  return {
    id: 'plan',
    description: 'List the units of an experiment (one per run of the grid) with their index and status, for --index, --shard and job arrays',
    configure(command: Command, engine: Engine) {
      experimentArguments(command, engine)
        .option('--json', 'print the units as JSON')
        .action(async (file: string, opts: ExperimentFlags & { json?: boolean }) => {
          const ctx = await prepareExperiment(file, engine, services(engine), { out: opts.out, backend: opts.backend, note: () => {} });
          const units = await planUnits(ctx);
          if (opts.json) {
            process.stdout.write(`${JSON.stringify({ out: ctx.layout.root, units, aggregate: 'xlt run <experiment> --aggregate' }, null, 2)}\n`);
            return;
          }
          const width = String(units.length - 1).length;
          for (const u of units) process.stdout.write(`${String(u.index).padStart(width)}  ${u.status.padEnd(7)}  ${u.key}\n`);
          const done = units.filter((u) => u.status === 'done').length;
          process.stdout.write(
            `${done}/${units.length} units done in ${ctx.layout.root}. One unit: xlt run ${file} --index <i>; ` +
              `then averaging, evaluation and the report: xlt run ${file} --aggregate\n`,
          );
        });
    },
  };
}

/** Flags of `xlt submit`. */
interface SubmitFlags extends ExperimentFlags {
  readonly parallel?: number;
  readonly cpusPerTask: number;
  readonly gpusPerTask?: number;
  readonly mem?: string;
  readonly time?: string;
  readonly partition?: string;
  readonly dryRun?: boolean;
  readonly submit?: boolean;
  readonly image?: string;
  readonly claim?: string;
  readonly mountPath?: string;
}

/**
 * `xlt submit slurm|k8s EXPERIMENT`: for SLURM writes (and with `--submit`, submits) a job array of units and its
 * aggregate job; for Kubernetes writes an Indexed Job of units and the aggregate Job (never applied).
 */
export function submitCommand(services: ServicesFactory = engineServices): CliCommand {
  return {
    id: 'submit',
    description: 'Write a SLURM job array (one task per unit) and a dependent aggregate job (--submit submits them), or a Kubernetes Indexed Job and aggregate Job',
    configure(command: Command, engine: Engine) {
      experimentArguments(command.argument('<scheduler>', 'the scheduler: slurm or k8s'), engine)
        .option('--parallel <k>', 'at most k tasks at once (--array=0-N%k)', positiveInt('--parallel'))
        .option('--cpus-per-task <n>', 'CPUs per task; compute threads follow them', positiveInt('--cpus-per-task'), 1)
        .option('--gpus-per-task <n>', 'GPUs per task (default 1 when the backend is a GPU backend, else 0)', positiveInt('--gpus-per-task'))
        .option('--mem <size>', 'memory per task, as sbatch takes it (e.g. 16G)', matching('--mem', /^\d+[KMGT]?$/, 'a size as sbatch takes it (e.g. 16G, 16000)'))
        .option('--time <limit>', 'time limit per task, as sbatch takes it (e.g. 4:00:00)', matching('--time', /^(\d+-)?\d+(:\d{1,2}){0,2}$/, 'a time limit as sbatch takes it (e.g. 90, 4:00:00, 1-12:00:00)'))
        .option('--partition <name>', 'SLURM partition', matching('--partition', /^[A-Za-z0-9][A-Za-z0-9_.,-]*$/, 'a partition name (letters, digits, _ . , -)'))
        .option('--dry-run', 'print the scripts instead of writing them')
        .option('--submit', 'slurm: submit the array, then the aggregate job with --dependency=afterok on it')
        .option('--image <image>', 'k8s: container image with xlt and its plugins installed')
        .option('--claim <name>', 'k8s: PersistentVolumeClaim holding config, data, model and output (the same paths inside)')
        .option('--mount-path <dir>', 'k8s: where the claim is mounted in the containers')
        .action(async (scheduler: string, file: string, opts: SubmitFlags) => {
          if (scheduler !== 'slurm' && scheduler !== 'k8s') throw new XltError(`Unknown scheduler "${scheduler}": xlt submit knows slurm and k8s.`);
          if (scheduler === 'k8s') requireKubernetesFlags(opts); // before the output folder is claimed
          const ctx = await prepareExperiment(file, engine, services(engine), { out: opts.out, backend: opts.backend, note: () => {} });
          const gpu = /gpu|cuda/i.test(ctx.config.backend);
          if (scheduler === 'k8s') {
            await writeKubernetes(ctx, file, opts, gpu);
            return;
          }
          const scripts = slurmScripts({
            config: resolve(ctx.configFile),
            out: ctx.layout.root,
            units: ctx.runs.length,
            name: ctx.config.name,
            ...(opts.parallel ? { parallel: opts.parallel } : {}),
            cpusPerTask: opts.cpusPerTask,
            gpusPerTask: opts.gpusPerTask ?? (gpu ? 1 : 0),
            ...(opts.mem ? { mem: opts.mem } : {}),
            ...(opts.time ? { time: opts.time } : {}),
            ...(opts.partition ? { partition: opts.partition } : {}),
            ...(opts.backend ? { backend: opts.backend } : {}),
            ...overrides(),
          });
          if (opts.dryRun) {
            process.stdout.write(`# units.sbatch\n${scripts.array}\n# aggregate.sbatch\n${scripts.aggregate}`);
            return;
          }
          const dir = join(ctx.layout.root, 'slurm');
          await mkdir(join(dir, 'logs'), { recursive: true });
          const array = join(dir, 'units.sbatch');
          const aggregate = join(dir, 'aggregate.sbatch');
          await writeFileAtomic(array, scripts.array);
          await writeFileAtomic(aggregate, scripts.aggregate);
          if (!opts.submit) {
            process.stdout.write(`Wrote ${array} (${ctx.runs.length} units) and ${aggregate}. Submit with: xlt submit slurm ${file} --submit\n`);
            return;
          }
          const arrayId = await sbatch(array);
          const aggregateId = await sbatch(aggregate, [`--dependency=afterok:${arrayId}`]);
          process.stdout.write(
            `${JSON.stringify({ array: arrayId, aggregate: aggregateId, units: ctx.runs.length, out: ctx.layout.root })}\n` +
              `Watch: squeue -j ${arrayId},${aggregateId}; xlt plan ${file} --out ${ctx.layout.root}; logs in ${join(dir, 'logs')}\n`,
          );
        });
    },
  };
}

/** `xlt submit k8s`: the Indexed Job of units and the aggregate Job, written to `<out>/k8s/` (or printed). */
function requireKubernetesFlags(opts: SubmitFlags): void {
  const missing = (['image', 'claim', 'mountPath'] as const).filter((k) => !opts[k]);
  if (missing.length) throw new XltError(`xlt submit k8s needs ${missing.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}.`);
}

/** The `--set` overrides of this command (set in `XLT_SET` by the CLI), for the scripts it writes. */
function overrides(): { overrides?: string } {
  const value = process.env[OVERRIDES_VARIABLE];
  return value ? { overrides: value } : {};
}

async function writeKubernetes(ctx: ExperimentContext, file: string, opts: SubmitFlags, gpu: boolean): Promise<void> {
  const manifests = indexedJobManifests({
    config: resolve(ctx.configFile),
    out: ctx.layout.root,
    units: ctx.runs.length,
    name: ctx.config.name,
    image: opts.image!,
    claim: opts.claim!,
    mountPath: opts.mountPath!,
    ...(opts.parallel ? { parallel: opts.parallel } : {}),
    cpusPerTask: opts.cpusPerTask,
    gpusPerTask: opts.gpusPerTask ?? (gpu ? 1 : 0),
    ...(opts.mem ? { mem: opts.mem } : {}),
    ...overrides(),
  });
  if (opts.dryRun) {
    process.stdout.write(`# units.yaml\n${manifests.units}---\n# aggregate.yaml\n${manifests.aggregate}`);
    return;
  }
  const dir = join(ctx.layout.root, 'k8s');
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, 'units.yaml'), manifests.units);
  await writeFileAtomic(join(dir, 'aggregate.yaml'), manifests.aggregate);
  process.stdout.write(
    `Wrote ${join(dir, 'units.yaml')} (${ctx.runs.length} units) and ${join(dir, 'aggregate.yaml')}. Then:\n` +
      `  kubectl apply -f ${join(dir, 'units.yaml')} && kubectl wait --for=condition=complete --timeout=-1s job/${manifests.name}-units && kubectl apply -f ${join(dir, 'aggregate.yaml')}\n` +
      `Config and output folder must have the same paths inside the containers (${file}, ${ctx.layout.root}).\n`,
  );
}

