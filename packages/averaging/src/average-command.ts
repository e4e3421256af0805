import { join, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import {
  InputError,
  XltError,
  isFloatDtype,
  isSafetensorsDtype,
  type CliCommand,
  type Engine,
  type FloatDtype,
  type RunInfo,
  parseKeyValues,
  positiveInt,
} from '@xlt/plugin-api';
import { averageCheckpoints, type AverageOptions } from './average-checkpoints.js';
import { averageRuns, type AveragedModel } from './average-runs.js';
import { runsFromInputs } from './run-folder.js';
import { mergeMethodsOf } from './merge-methods/compose.js';
import { mergeCheckpoints, type MergeOptions, type MergeResult } from './merge-methods/merge-checkpoints.js';
import { readMergeConfig } from './merge-methods/mergekit-config.js';

/** Parsed flags of `xlt average`. */
interface AverageFlags {
  out: string;
  strategy?: string;
  option: string[];
  inputs?: string[];
  dtype?: string;
  /** @deprecated non-finite inputs are refused by default now; kept so that old command lines still parse. */
  rejectNan?: boolean;
  allowNonFinite?: boolean;
  metric?: string;
  /** Parsed by {@link positiveInt} on the command line; checked again here for callers from code. */
  maxShardBytes?: number;
  overwrite?: boolean;
  /** A mergekit YAML (`merge_method`, `base_model`, `models`, `parameters`, `dtype`): the whole merge. */
  config?: string;
  /** A merge method (`ties`, `slerp`, ...) applied to the inputs, or to each plan of `--strategy`. */
  method?: string;
  /** The pretrained model of task-vector methods. */
  base?: string;
  /** Repeated `key=value` parameters of `--method`. */
  param?: string[];
}

/** Parses repeated `--option key=value` flags (core's {@link parseKeyValues}: JSON values, else strings). */
export const parseOptionFlags = parseKeyValues;

function outputDtype(dtype: string | undefined): FloatDtype | undefined {
  if (dtype === undefined) return undefined;
  const upper = dtype.toUpperCase();
  if (!isSafetensorsDtype(upper) || !isFloatDtype(upper)) throw new InputError([{ file: '--dtype', expected: 'one of F16, BF16, F32, F64', found: JSON.stringify(dtype) }]);
  return upper;
}

/** A single output given as a folder while the inputs are plain files becomes `<folder>/model.safetensors`. */
function singleOut(out: string, firstInput: string): string {
  return firstInput.endsWith('.safetensors') && !out.endsWith('.safetensors') ? join(out, 'model.safetensors') : out;
}

function report(models: readonly AveragedModel[] | readonly { out: string; inputs: readonly { path: string; weight: number }[] }[], oracle: boolean): void {
  for (const m of models) {
    const inputs = 'plan' in m ? m.plan.map((p) => ({ path: p.checkpoint.path, weight: p.weight })) : m.inputs;
    process.stdout.write(`${m.out}  <- ${inputs.length} checkpoint(s)${'run' in m && m.run ? ` of run ${m.run}` : ''}\n`);
    for (const i of inputs) process.stdout.write(`  ${i.weight.toFixed(6)}  ${i.path}\n`);
  }
  if (oracle) process.stdout.write('ORACLE: this strategy used target-language dev data; its results are not zero-shot (ZS-XLT) results.\n');
}

/** An output that is one of the inputs, or a folder holding one, would be replaced while it is read. */
function refuseOutputOverInput(out: string, inputs: readonly string[]): void {
  const target = resolve(out);
  for (const input of inputs) {
    const source = resolve(input);
    if (source === target || source.startsWith(`${target}${sep}`)) {
      throw new InputError([{ file: '--out', expected: 'an output path that is not one of the inputs nor a folder holding one', found: `${out}, which ${source === target ? 'is' : 'holds'} the input ${input}` }]);
    }
  }
}

/** The action of `xlt average`, callable from code and tests. */
export async function runAverageCommand(engine: Engine, positional: readonly string[], flags: AverageFlags): Promise<void> {
  const write: AverageOptions = {
    ...(flags.dtype !== undefined ? { dtype: outputDtype(flags.dtype) } : {}),
    // NaN or infinity in an input would average to garbage that evaluates with exit code 0: refused unless asked.
    rejectNaN: !flags.allowNonFinite,
    overwrite: flags.overwrite ?? false,
    ...(flags.maxShardBytes !== undefined ? { maxShardBytes: flags.maxShardBytes } : {}),
  };
  if (write.maxShardBytes !== undefined && !(Number.isInteger(write.maxShardBytes) && write.maxShardBytes > 0)) {
    throw new InputError([{ file: '--max-shard-bytes', expected: 'a whole number of bytes >= 1', found: String(flags.maxShardBytes) }]);
  }
  const inputs = [...(flags.inputs ?? []), ...positional];
  const params = flags.param ?? [];
  if (flags.config !== undefined) return runMergeConfig(engine, flags, inputs, write);
  if (flags.method === undefined && (flags.base !== undefined || params.length)) throw new XltError(`xlt average: ${flags.base !== undefined ? '--base' : '--param'} needs --method`);
  if (inputs.length === 0) throw new XltError('xlt average: give the checkpoints or run folders to average (INPUT... or --inputs)');
  refuseOutputOverInput(flags.out, [...inputs, ...(flags.base !== undefined ? [flags.base] : [])]);
  const merge: MergeOptions | undefined = flags.method
    ? { method: mergeMethodsOf(engine).get(flags.method), params: parseParamFlags(params), ...(flags.base !== undefined ? { base: flags.base } : {}), allowNonFinite: flags.allowNonFinite ?? false }
    : undefined;
  const runs: RunInfo[] = await runsFromInputs(inputs);
  if (!flags.strategy && merge) {
    // every input with weight 1: methods that use weights normalise them (linear, ties) or sum task vectors
    const all = runs.flatMap((r) => r.checkpoints);
    const result = await mergeCheckpoints(all.map((c) => ({ path: c.path, weight: 1 })), singleOut(flags.out, all[0]!.path), { ...mergeWrite(write), ...merge });
    reportMerge(result);
    return;
  }
  if (!flags.strategy) {
    if (flags.option.length) throw new XltError('xlt average: --option needs --strategy');
    const all = runs.flatMap((r) => r.checkpoints);
    const result = await averageCheckpoints(all.map((c) => ({ path: c.path, weight: 1 / all.length })), singleOut(flags.out, all[0]!.path), write);
    report([result], false);
    return;
  }
  const strategy = engine.strategies.get(flags.strategy);
  const checkpoints = runs.flatMap((r) => r.checkpoints);
  const metric = flags.metric ?? inferMetric(checkpoints.flatMap((c) => Object.keys(c.sourceDev ?? {})));
  const single = strategy.scope === 'across-runs' || runs.length === 1;
  const models = await averageRuns(runs, strategy, parseOptionFlags(flags.option), {
    ...write,
    out: single ? singleOut(flags.out, checkpoints[0]!.path) : flags.out,
    context: { primaryMetric: metric },
    ...(merge ? { merge } : {}),
  });
  report(models, strategy.oracle);
  if (merge) process.stdout.write(`merged with ${describeMerge(models[0] as unknown as MergeResult)}\n`);
}

/** Parses repeated `--param key=value` flags: JSON values when they parse as JSON, else strings. */
function parseParamFlags(flags: readonly string[]): Record<string, unknown> {
  const bad = flags.find((f) => f.indexOf('=') <= 0);
  if (bad !== undefined) throw new InputError([{ path: '--param', expected: 'key=value, e.g. density=0.5', found: JSON.stringify(bad) }]);
  return parseKeyValues(flags);
}

/** The write options of `xlt average` as merge options (a merge refuses non-finite values unless allowed). */
function mergeWrite(write: AverageOptions): Partial<MergeOptions> {
  return { ...(write.dtype ? { dtype: write.dtype } : {}), overwrite: write.overwrite ?? false, ...(write.maxShardBytes !== undefined ? { maxShardBytes: write.maxShardBytes } : {}) };
}

function describeMerge(result: Pick<MergeResult, 'method' | 'params' | 'base'>): string {
  const params = Object.entries(result.params).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
  return `${result.method}${params ? ` (${params})` : ''}${result.base ? ` over base ${result.base}` : ''}`;
}

function reportMerge(result: MergeResult): void {
  process.stdout.write(`${result.out}  <- ${result.inputs.length} checkpoint(s), merged with ${describeMerge(result)}\n`);
  for (const i of result.inputs) process.stdout.write(`  ${i.weight.toFixed(6)}  ${i.path}\n`);
}

/** `xlt average --config merge.yml --out DIR`: the whole merge comes from a mergekit YAML. */
async function runMergeConfig(engine: Engine, flags: AverageFlags, inputs: readonly string[], write: AverageOptions): Promise<void> {
  const conflicting = [inputs.length ? 'INPUT/--inputs' : '', flags.strategy ? '--strategy' : '', flags.method ? '--method' : '', flags.base !== undefined ? '--base' : '', flags.param?.length ? '--param' : '', flags.option.length ? '--option' : ''].filter(Boolean);
  if (conflicting.length) throw new XltError(`xlt average: --config gives the models, method, base and parameters; leave out ${conflicting.join(', ')}`);
  const config = await readMergeConfig(flags.config!, mergeMethodsOf(engine));
  refuseOutputOverInput(flags.out, [...config.models.map((m) => m.path), ...(config.base ? [config.base] : [])]);
  const result = await mergeCheckpoints(config.models, singleOut(flags.out, config.models[0]!.path), {
    ...mergeWrite(write),
    ...(config.dtype && !write.dtype ? { dtype: config.dtype } : {}),
    method: mergeMethodsOf(engine).get(config.method),
    params: config.params,
    ...(config.base ? { base: config.base } : {}),
    allowNonFinite: flags.allowNonFinite ?? false,
  });
  reportMerge(result);
}

/** The metric to rank by when `--metric` is absent: the only source-dev metric recorded, else `accuracy`. */
function inferMetric(names: readonly string[]): string {
  const distinct = [...new Set(names)];
  if (distinct.length > 1) {
    throw new XltError(`xlt average: checkpoints record several source-dev metrics (${distinct.join(', ')}); choose one with --metric`);
  }
  return distinct[0] ?? 'accuracy';
}

/**
 * `xlt average`: averages checkpoints with a strategy (`--strategy checkpoint-average --option lastK=3`) or as a
 * plain uniform mean (`--inputs a.safetensors b.safetensors`); `--method ties --base B --param density=0.5` merges
 * with a merge method instead (the inputs, or each plan of the strategy), and `--config merge.yml` runs a mergekit
 * merge config. Inputs are checkpoint files, HF checkpoint
 * folders, run folders (`checkpoint-*` subfolders or `*.safetensors` files) or globs.
 */
export const averageCommand: CliCommand = {
  id: 'average',
  description: 'Average checkpoints and runs (CA, RA, CA+RA, EMA, soups) or select one, streaming safetensors',
  configure(command: Command, engine: Engine) {
    command
      .argument('[inputs...]', 'checkpoint files or folders, run folders, or globs of these')
      .requiredOption('--out <path>', 'output: a .safetensors file, or a folder (HF model folder for folder inputs)')
      .option('--strategy <id>', `averaging strategy (${engine.strategies.ids().join(', ') || 'none loaded'}); default: uniform mean of all inputs`)
      .option('--option <key=value>', 'a strategy option, e.g. lastK=3 or weights=[1,2]; repeatable', (v: string, prev: string[]) => [...prev, v], [])
      .option('--inputs <paths...>', 'checkpoints to average uniformly (same as positional inputs)')
      .option('--dtype <dtype>', 'output dtype of float tensors: F32, F16, BF16 or F64 (default: as the input)')
      .option('--allow-non-finite', 'average inputs that hold NaN or infinite values (refused by default)')
      .option('--reject-nan', 'kept for old command lines: non-finite inputs are refused by default')
      .option('--metric <name>', 'source-dev metric for ranking strategies (default: the one recorded in the checkpoints)')
      .option('--max-shard-bytes <n>', 'largest output shard in bytes (default: as the first input)', positiveInt('--max-shard-bytes'))
      .option('--overwrite', 'replace an existing output file or folder')
      .option('--config <file>', 'a mergekit merge config (merge_method, base_model, models, parameters, dtype): the whole merge')
      .option('--method <id>', `merge method instead of the weighted mean (${mergeMethodsOf(engine).ids().join(', ') || 'none loaded'}); with --strategy, merges each plan`)
      .option('--base <path>', 'the pretrained model (file or HF folder) that task-vector methods (task_arithmetic, ties, dare_*, model_stock) need')
      .option('--param <key=value>', 'a merge-method parameter, e.g. density=0.5 or lambda=0.8; repeatable', (v: string, prev: string[]) => [...prev, v], [])
      .action((positional: string[], flags: AverageFlags) => runAverageCommand(engine, positional, flags));
  },
};
