import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ExperimentConfig } from '../config/experiment-schema.js';
import { writeFileAtomic } from '@xlt/plugin-api';
import type { ExperimentContext } from './experiment-context.js';
import { resolveConfigPath } from './experiment-data.js';
import { sha256File } from './file-hash.js';
import type { SharedHead } from './head-step.js';
import type { BackendInfo } from './services.js';

/** Wall time of one phase, and whether this invocation found it already done (its time is then the recorded one). */
export interface PhaseTime {
  readonly seconds?: number;
  readonly reused: boolean;
}

/** Wall times of an experiment's phases, as measured by `runExperiment`. */
export interface PhaseTimes {
  /** The head phase (absent with the `per-run` head protocol). */
  head?: PhaseTime;
  /** Training (and dev scoring) of each run, by run key. */
  runs: Record<string, PhaseTime>;
  /** Building the strategies' models, total and by strategy name (this invocation). */
  averaging: { seconds: number; byStrategy: Record<string, number> };
  /** Evaluating them on the target languages, total and by strategy name (this invocation). */
  evaluation: { seconds: number; byStrategy: Record<string, number> };
}

/** A hashed input file. */
export interface HashedFile {
  /** Where the config names it (`source.train`, `targets.de.test[1]`), for data files. */
  readonly path?: string;
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** The `provenance.json` of a results folder: what produced these numbers, on what, from which inputs. */
export interface Provenance {
  readonly xlt: { readonly version: string; readonly commit?: string; readonly dirty?: boolean };
  readonly node: string;
  readonly platform: string;
  readonly backend: BackendInfo | { readonly requested: string };
  readonly experiment: string;
  readonly config: string;
  readonly headProtocol: ExperimentConfig['training']['head']['protocol'];
  readonly head?: { readonly file: string; readonly seed: number; readonly steps: number; readonly sha256: string };
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly wallSeconds: PhaseTimes & { readonly total: number };
  readonly data: readonly HashedFile[];
  readonly model: { readonly folder: string; readonly files: readonly HashedFile[] };
}

const run = promisify(execFile);

/** The version in `@xlt/core`'s package.json (the same relative path from `src/` and from `dist/`). */
export async function xltVersion(): Promise<string> {
  const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
  return manifest.version ?? 'unknown';
}

/**
 * The git commit of the xlt checkout this code runs from, and whether tracked files differ from it. Best effort:
 * `undefined` when git is missing or this is no checkout; an installed copy (under `node_modules`) reports nothing,
 * since a git repository around it would be the user's, not xlt's.
 */
export async function xltCommit(): Promise<{ commit: string; dirty?: boolean } | undefined> {
  const here = dirname(fileURLToPath(import.meta.url));
  if (here.split(sep).includes('node_modules')) return undefined;
  try {
    const commit = (await run('git', ['rev-parse', 'HEAD'], { cwd: here, timeout: 5000 })).stdout.trim();
    if (!/^[0-9a-f]{40,64}$/.test(commit)) return undefined;
    try {
      const status = await run('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: here, timeout: 10_000 });
      return { commit, dirty: status.stdout.trim() !== '' };
    } catch {
      return { commit };
    }
  } catch {
    return undefined;
  }
}

/** Every data file the experiment reads, with the config path that names it. */
export function dataFiles(config: ExperimentConfig, baseDir: string): { path: string; file: string }[] {
  const out: { path: string; file: string }[] = [];
  const add = (files: string | readonly string[] | undefined, path: string) => {
    if (files === undefined) return;
    if (typeof files === 'string') out.push({ path, file: resolveConfigPath(files, baseDir) });
    else files.forEach((f, i) => out.push({ path: `${path}[${i}]`, file: resolveConfigPath(f, baseDir) }));
  };
  add(config.source.train, 'source.train');
  add(config.source.dev, 'source.dev');
  for (const [language, data] of Object.entries(config.targets)) {
    add(data.test, `targets.${language}.test`);
    add(data.dev, `targets.${language}.dev`);
    // Target train files are read only to draw few-shot examples.
    if (config.setup.mode === 'few-shot') add(data.train, `targets.${language}.train`);
  }
  return out;
}

/** The files of a model folder that make the model: `config.json` and the weights (safetensors, else `.bin`). */
export async function modelFiles(folder: string): Promise<string[]> {
  const names = (await readdir(folder)).sort();
  const safetensors = names.filter((n) => n.endsWith('.safetensors') || n === 'model.safetensors.index.json');
  const weights = safetensors.length ? safetensors : names.filter((n) => n.endsWith('.bin') || n === 'pytorch_model.bin.index.json');
  return [...names.filter((n) => n === 'config.json'), ...weights].map((n) => join(folder, n));
}

async function hashed(file: string, path?: string): Promise<HashedFile> {
  const [info, sha256] = await Promise.all([stat(file), sha256File(file)]);
  return { ...(path ? { path } : {}), file, bytes: info.size, sha256 };
}

/**
 * Writes `provenance.json` into the results folder (atomically): xlt's version and git commit, Node, platform,
 * the backend and its threads, the head protocol, wall time per phase, and the sha256 of every data file and of
 * the model's config and weights, so that a number in `results.json` can be traced to what made it.
 */
export async function writeProvenance(
  ctx: ExperimentContext,
  times: PhaseTimes,
  options: { readonly startedAt: Date; readonly head?: SharedHead },
): Promise<Provenance> {
  const baseDir = dirname(resolve(ctx.configFile));
  const [version, git, backend] = await Promise.all([
    xltVersion(),
    xltCommit(),
    ctx.services.backendInfo ? ctx.services.backendInfo(ctx.config.backend) : Promise.resolve({ requested: ctx.config.backend }),
  ]);
  const data: HashedFile[] = [];
  for (const { path, file } of dataFiles(ctx.config, baseDir)) data.push(await hashed(file, path));
  const model: HashedFile[] = [];
  for (const file of await modelFiles(ctx.model)) model.push(await hashed(file));
  const finished = new Date();
  const provenance: Provenance = {
    xlt: { version, ...(git ?? {}) },
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    backend,
    experiment: ctx.config.name,
    config: resolve(ctx.configFile),
    headProtocol: ctx.config.training.head.protocol,
    ...(options.head ? { head: { file: relative(ctx.layout.root, options.head.file), seed: options.head.seed, steps: options.head.steps, sha256: options.head.sha256 } } : {}),
    startedAt: options.startedAt.toISOString(),
    finishedAt: finished.toISOString(),
    wallSeconds: { ...times, total: (finished.getTime() - options.startedAt.getTime()) / 1000 },
    data,
    model: { folder: ctx.model, files: model.map((f) => ({ ...f, file: relative(ctx.model, f.file) })) },
  };
  await writeFileAtomic(ctx.layout.provenance, `${JSON.stringify(provenance, null, 2)}\n`);
  return provenance;
}
