import { isAbsolute, resolve } from 'node:path';
import type { ExperimentConfig } from '../config/experiment-schema.js';
import { InputError, XltError, type InputIssue, type TaskPlugin, seededRandom, shuffled } from '@xlt/plugin-api';

/** The examples of one target language, read and capped. */
export interface TargetData {
  readonly language: string;
  readonly test: readonly unknown[];
  /** Target dev data: only the oracle strategy may use it. */
  readonly dev?: readonly unknown[];
  /** Few-shot: the k shots sampled from the target train file. */
  readonly shots?: readonly unknown[];
}

/** Every data set of an experiment, read before any training so that a bad file fails the run at once. */
export interface ExperimentData {
  readonly sourceLanguage: string;
  readonly train: readonly unknown[];
  readonly dev?: readonly unknown[];
  readonly targets: readonly TargetData[];
}

/** A path from the config, resolved against the config file's folder (absolute paths stay as they are). */
export function resolveConfigPath(path: string, baseDir: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

const asList = (files: string | readonly string[]): readonly string[] => (typeof files === 'string' ? [files] : files);

/**
 * Reads every file an experiment names with the task's reader: source train and dev, and each target's test,
 * dev and (few-shot) train files. Problems in all files are collected into one {@link InputError}, each naming
 * the file and the config path that named it, so nothing is trained before the data is known to be readable.
 */
export async function loadExperimentData(
  config: ExperimentConfig,
  task: TaskPlugin,
  taskOptions: Record<string, unknown>,
  baseDir: string,
  configFile: string,
): Promise<ExperimentData> {
  const issues: InputIssue[] = [];
  const formats = new Set(task.formats.map((f) => f.id));
  const checkFormat = (format: string | undefined, path: string): boolean => {
    if (format === undefined || formats.has(format)) return true;
    issues.push({ file: configFile, path, expected: `a format of task "${task.id}" (${[...formats].join(', ') || 'none'})`, found: JSON.stringify(format) });
    return false;
  };
  const read = async (files: string | readonly string[] | undefined, format: string | undefined, language: string, path: string, cap?: number) => {
    if (files === undefined) return undefined;
    const out: unknown[] = [];
    const list = asList(files);
    for (let i = 0; i < list.length; i++) {
      const file = resolveConfigPath(list[i]!, baseDir);
      const where = typeof files === 'string' ? path : `${path}[${i}]`;
      try {
        const examples = await task.read({ path: file, format, language }, taskOptions);
        if (examples.length === 0) issues.push({ file, path: where, expected: `at least one ${task.id} example`, found: 'an empty data set' });
        out.push(...examples);
      } catch (error) {
        if (error instanceof InputError) issues.push(...error.issues.map((issue) => ({ ...issue, file: issue.file ?? file, path: issue.path ?? where })));
        else if (error instanceof XltError) issues.push({ file, path: where, expected: `a ${task.id} data file`, found: error.message });
        else throw error;
      }
    }
    return cap !== undefined ? out.slice(0, cap) : out;
  };

  const { training } = config;
  const sourceFormatOk = checkFormat(config.source.format, 'source.format');
  const sourceFormat = sourceFormatOk ? config.source.format : undefined;
  const train = await read(config.source.train, sourceFormat, config.source.language, 'source.train', training.maxTrainExamples);
  const dev = await read(config.source.dev, sourceFormat, config.source.language, 'source.dev', training.maxEvalExamples);

  const targets: TargetData[] = [];
  for (const [language, data] of Object.entries(config.targets)) {
    const format = checkFormat(data.format, `targets.${language}.format`) ? data.format : undefined;
    const test = await read(data.test, format, language, `targets.${language}.test`, training.maxEvalExamples);
    const targetDev = await read(data.dev, format, language, `targets.${language}.dev`, training.maxEvalExamples);
    let shots: unknown[] | undefined;
    if (config.setup.mode === 'few-shot') {
      const pool = await read(data.train, format, language, `targets.${language}.train`);
      if (data.train === undefined) {
        issues.push({ file: configFile, path: `targets.${language}.train`, expected: 'a train file to draw few-shot examples from (setup.mode is "few-shot")', found: 'nothing' });
      } else if (pool && pool.length > 0) {
        if (pool.length < config.setup.shots) {
          issues.push({ file: resolveConfigPath(asList(data.train)[0]!, baseDir), path: `targets.${language}.train`, expected: `at least ${config.setup.shots} examples (setup.shots)`, found: `${pool.length}` });
        }
        shots = sampleShots(pool, config.setup.shots, config.setup.seed, language);
      }
    }
    targets.push({ language, test: test ?? [], dev: targetDev, shots });
  }
  if (issues.length > 0) {
    throw new InputError(issues, `${configFile}: ${issues.length} problem${issues.length > 1 ? 's' : ''} with the experiment's data files (nothing was trained):`);
  }
  return { sourceLanguage: config.source.language, train: train!, dev, targets };
}

/**
 * Draws `k` shots from a target train set, the same ones for the same seed and language (the language enters the
 * seed so that languages of equal size do not get the same example indices).
 */
export function sampleShots<T>(pool: readonly T[], k: number, seed: number, language: string): T[] {
  let mix = seed >>> 0;
  for (const ch of language) mix = (Math.imul(mix ^ ch.charCodeAt(0), 0x01000193) + 0x9e3779b9) >>> 0;
  return shuffled(pool, seededRandom(mix)).slice(0, k);
}
