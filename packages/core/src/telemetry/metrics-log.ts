import { namingPath } from '@xlt/plugin-api';
import { closeSync, existsSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { XltError, writeFileAtomic } from '@xlt/plugin-api';

/** Name of a run's metrics log, in the run folder. */
export const METRICS_FILE = 'metrics.jsonl';

/** One line of `metrics.jsonl`: a JSON object with at least the optimizer step it belongs to. */
export interface MetricsRecord {
  readonly step: number;
  readonly [field: string]: unknown;
}

/** What {@link parseMetricsLog} found. */
export interface ParsedMetricsLog {
  readonly records: MetricsRecord[];
  /** 1-based number of an unterminated last line (a write cut short by a crash), which is left out. */
  readonly tornLine?: number;
}

/**
 * Parses the text of a metrics log. Every line ended by a newline must be a JSON object with a whole-number
 * `step` (else an error names the file, the line, what was expected and what was found); a last line without its
 * newline is a write a crash cut short: it is left out and reported as `tornLine`.
 */
export function parseMetricsLog(text: string, file: string): ParsedMetricsLog {
  const lines = text.split('\n');
  const tail = lines.pop()!;
  const records: MetricsRecord[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new XltError(`${file}:${i + 1}: expected a JSON object, found ${JSON.stringify(line.slice(0, 80))} (${(error as Error).message}).`);
    }
    const step = (value as { step?: unknown } | null)?.step;
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Number.isInteger(step) || (step as number) < 0) {
      throw new XltError(`${file}:${i + 1}: expected a JSON object with a whole-number "step" >= 0, found ${line.slice(0, 80)}.`);
    }
    records.push(value as MetricsRecord);
  });
  return tail === '' ? { records } : { records, tornLine: lines.length + 1 };
}

/** The records of a metrics log (a torn last line left out); an empty list when the file does not exist. */
export async function readMetricsLog(file: string): Promise<MetricsRecord[]> {
  if (!existsSync(file)) return [];
  return parseMetricsLog(await readFile(file, 'utf8'), file).records;
}

/**
 * An append-only JSON-lines log of a run's metrics, written as training goes: each record is one line written
 * with a single write (no buffering in the process), so a reader or a crash sees whole lines, except at worst a
 * torn last one, which {@link parseMetricsLog} leaves out.
 */
export class MetricsLog {
  readonly #fd: number;

  private constructor(readonly file: string, fd: number) {
    this.#fd = fd;
  }

  /**
   * Opens the log of a run that starts (or resumes) after step `keepUpToStep`: records of later steps, which the
   * run is about to redo, and a torn last line are removed first (the file rewritten atomically), so no step is
   * logged twice. Returns the log and how many records were removed.
   */
  static async open(file: string, keepUpToStep: number): Promise<{ log: MetricsLog; removed: number; tornLine?: number }> {
    await mkdir(dirname(file), { recursive: true });
    let removed = 0;
    let tornLine: number | undefined;
    if (existsSync(file)) {
      const parsed = parseMetricsLog(await readFile(file, 'utf8'), file);
      const kept = parsed.records.filter((r) => r.step <= keepUpToStep);
      removed = parsed.records.length - kept.length;
      tornLine = parsed.tornLine;
      if (removed > 0 || tornLine !== undefined) await writeFileAtomic(file, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
    }
    return { log: new MetricsLog(file, openSync(file, 'a')), removed, ...(tornLine !== undefined ? { tornLine } : {}) };
  }

  /** Appends one record as one line. */
  append<R extends { readonly step: number }>(record: R): void {
    namingPath(this.file, () => writeSync(this.#fd, `${JSON.stringify(record)}\n`));
  }

  /** Forces what was written to disk (called at checkpoints, where a run may later resume). */
  sync(): void {
    namingPath(this.file, () => fsyncSync(this.#fd));
  }

  /** Closes the log. */
  close(): void {
    closeSync(this.#fd);
  }
}
