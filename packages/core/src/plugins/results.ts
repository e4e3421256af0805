import type { Plugin } from './plugin.js';

/** One measured number: a metric of one model (run x strategy) on one target language. */
export interface ResultRecord {
  readonly experiment: string;
  readonly task: string;
  /** Grid point (e.g. `lr=2e-5,bs=32,seed=1`) or `all` for across-run strategies. */
  readonly run: string;
  readonly strategy: string;
  readonly language: string;
  readonly metric: string;
  readonly value: number;
  /** True for strategies that used target-language dev data. */
  readonly oracle: boolean;
  readonly hyperparameters?: Readonly<Record<string, unknown>>;
}

/** Extension point: where results go (JSON, CSV, HTML report, a tracking server, ...). */
export interface ResultsSink extends Plugin {
  /** Writes the complete result set of an experiment into `outDir`, atomically per file. */
  write(records: readonly ResultRecord[], outDir: string): Promise<string[]>;
}

/** Service identifier of {@link ResultsSink}. */
export const ResultsSink: unique symbol = Symbol.for('xlt.ResultsSink');
