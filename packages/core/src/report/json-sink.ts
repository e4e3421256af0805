import { join } from 'node:path';
import { type ResultRecord, type ResultsSink, writeFileAtomic } from '@xlt/plugin-api';
import { metricsOf, summarize } from './summary.js';

/** `results.json`: every record (each with its head protocol and strategy id and options), plus the per-strategy summary (mean, std, worst, gap to oracle) of each metric. */
export const jsonSink: ResultsSink = {
  id: 'json',
  description: 'results.json: every result record and the per-strategy summary of each metric',
  async write(records: readonly ResultRecord[], outDir: string) {
    const file = join(outDir, 'results.json');
    const summary = Object.fromEntries(metricsOf(records).map((m) => [m, summarize(records, m)]));
    await writeFileAtomic(file, `${JSON.stringify({ experiment: records[0]?.experiment, task: records[0]?.task, headProtocol: records[0]?.headProtocol, records, summary }, null, 2)}\n`);
    return [file];
  },
};
