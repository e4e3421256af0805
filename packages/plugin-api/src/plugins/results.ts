import type { Plugin } from './plugin.js';

/** One measured number: a metric of one model (run x strategy) on one target language. */
export interface ResultRecord {
  readonly experiment: string;
  readonly task: string;
  /** Grid point (e.g. `lr=2e-5,bs=32,seed=1`) or `all` for across-run strategies. */
  readonly run: string;
  /** The strategy entry's name (its id unless the config names it, e.g. `checkpoint-average[lastK=1]`). */
  readonly strategy: string;
  /** The strategy plugin's id, e.g. `checkpoint-average`. */
  readonly strategyId?: string;
  /** The options the strategy ran with (its defaults filled in). */
  readonly strategyOptions?: Readonly<Record<string, unknown>>;
  /**
   * How the runs got their task head: `shared-frozen` (one head trained once with the encoder frozen, then frozen
   * in every run) or `per-run` (each run trains its own head from its seed).
   */
  readonly headProtocol?: 'shared-frozen' | 'per-run';
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
