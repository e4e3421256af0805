import { join } from 'node:path';
import type { Metrics } from '@xlt/plugin-api';
import { EVENTS_FOLDER, EventFileWriter, trimEventFiles } from '../telemetry/event-writer.js';
import { METRICS_FILE, MetricsLog } from '../telemetry/metrics-log.js';

/** Memory of the training process at a logging step, in bytes. */
export interface MemorySnapshot {
  /** Resident set size of the process: everything, the native backend's buffers included. */
  readonly rss_bytes: number;
  /** V8 heap in use. */
  readonly heap_used_bytes: number;
  /**
   * Bytes of ArrayBuffers and SharedArrayBuffers: where the TF.js backends keep parameters, gradients and AdamW
   * moments on the host.
   */
  readonly array_buffers_bytes: number;
  /** Bytes of the tensors TF.js holds between steps (`tf.memory().numBytes`; uploaded weights on `tfjs-node(-gpu)`). */
  readonly tfjs_bytes?: number;
  /** Bytes TF.js holds on a GPU, when its backend reports them (`tf.memory().numBytesInGPU`). */
  readonly tfjs_gpu_bytes?: number;
}

/** What TF.js's `tf.memory()` reports, as far as it is used here. */
export interface TfMemoryInfo {
  readonly numBytes: number;
  readonly numBytesInGPU?: number;
}

/** The process's memory now, with what TF.js reports when `tfMemory` is given. */
export function memorySnapshot(tfMemory?: () => TfMemoryInfo): MemorySnapshot {
  const tf = tfMemory?.();
  const usage = process.memoryUsage();
  return {
    rss_bytes: usage.rss,
    heap_used_bytes: usage.heapUsed,
    array_buffers_bytes: usage.arrayBuffers,
    ...(tf ? { tfjs_bytes: tf.numBytes } : {}),
    ...(tf && typeof tf.numBytesInGPU === 'number' ? { tfjs_gpu_bytes: tf.numBytesInGPU } : {}),
  };
}

/** A `metrics.jsonl` record of training, written every `loggingSteps` optimizer steps and at the last. */
export interface TrainingRecord {
  readonly type: 'train';
  /** Optimizer steps done (1-based: the record of step 10 comes after the 10th update). */
  readonly step: number;
  /** Fractional epoch at that step. */
  readonly epoch: number;
  /** Mean training loss of the steps since the previous record. */
  readonly loss: number;
  /** Learning rate of the last update (`learningRateAt(step - 1)`). */
  readonly learning_rate: number;
  /** Global L2 norm of the gradients of the last step, before clipping (what HF logs as `grad_norm`). */
  readonly grad_norm: number;
  /** Real (non-padding) tokens per second since the previous record. */
  readonly tokens_per_second: number;
  readonly memory: MemorySnapshot;
  /** Seconds since the epoch. */
  readonly wall_time: number;
}

/** A `metrics.jsonl` record of a saved checkpoint. */
export interface CheckpointRecord {
  readonly type: 'checkpoint';
  readonly step: number;
  readonly epoch: number;
  /** The checkpoint folder's name in the run folder, `checkpoint-<step>`. */
  readonly checkpoint: string;
  /** Mean training loss since the previous checkpoint. */
  readonly train_loss: number;
  /** Source-dev metrics, when the trainer evaluated the checkpoint. */
  readonly source_dev?: Metrics;
  readonly wall_time: number;
}

/** A `metrics.jsonl` record of a run stopped early (see `TrainingOptions.earlyStoppingPatience`). */
export interface EarlyStoppingRecord {
  readonly type: 'early_stopping';
  readonly step: number;
  readonly metric: string;
  readonly best: number;
  readonly best_step: number;
  readonly patience: number;
  readonly wall_time: number;
}

/** Any record the trainer writes to `metrics.jsonl`. */
export type RunMetricsRecord = TrainingRecord | CheckpointRecord | EarlyStoppingRecord;

/** TensorBoard tag of the source-dev metric that ranks checkpoints; each metric also goes to `eval/source_dev/<metric>`. */
export const SOURCE_DEV_TAG = 'eval/source_dev';

/**
 * The run's telemetry: `metrics.jsonl` and the TensorBoard event files in `tensorboard/` of the run folder. Opened
 * at the step the session starts from, it first removes what a crashed session logged after that step.
 */
export class RunTelemetry {
  private constructor(
    readonly metrics: MetricsLog,
    readonly events: EventFileWriter,
  ) {}

  /** Opens the telemetry of `runDir` for a session that starts after step `startStep` (0 for a fresh run). */
  static async open(runDir: string, startStep: number): Promise<RunTelemetry> {
    const eventsDir = join(runDir, EVENTS_FOLDER);
    await trimEventFiles(eventsDir, startStep);
    const { log } = await MetricsLog.open(join(runDir, METRICS_FILE), startStep);
    return new RunTelemetry(log, new EventFileWriter(eventsDir));
  }

  /** Logs a training record to both. */
  async training(record: TrainingRecord): Promise<void> {
    this.metrics.append(record);
    await this.events.addScalars(record.step, {
      'train/loss': record.loss,
      'train/learning_rate': record.learning_rate,
      'train/grad_norm': record.grad_norm,
      'train/tokens_per_second': record.tokens_per_second,
      'train/epoch': record.epoch,
    });
  }

  /**
   * Logs a checkpoint to both (source-dev scalars when it was evaluated: `monitored` under {@link SOURCE_DEV_TAG},
   * every metric under `eval/source_dev/<metric>`), then forces both files to disk: a later session resumes here.
   */
  async checkpoint(record: CheckpointRecord, monitored?: string): Promise<void> {
    this.metrics.append(record);
    const dev = record.source_dev ?? {};
    const scalars: Record<string, number> = { 'train/checkpoint_loss': record.train_loss };
    if (monitored !== undefined && dev[monitored] !== undefined) scalars[SOURCE_DEV_TAG] = dev[monitored]!;
    for (const [metric, value] of Object.entries(dev)) scalars[`${SOURCE_DEV_TAG}/${metric}`] = value;
    await this.events.addScalars(record.step, scalars);
    this.metrics.sync();
    this.events.sync();
  }

  /** Logs that the run stopped early. */
  earlyStopping(record: EarlyStoppingRecord): void {
    this.metrics.append(record);
    this.metrics.sync();
  }

  /** Closes both files. */
  close(): void {
    this.metrics.close();
    this.events.close();
  }
}
