import { join } from 'node:path';
import { type ResultRecord, type ResultsSink, writeFileAtomic } from '@xlt/plugin-api';
import { renderReport } from './html-report.js';

/** `report.html`: the self-contained report of {@link renderReport}. */
export const htmlReportSink: ResultsSink = {
  id: 'html-report',
  description: 'report.html: self-contained plots (per-language scores, spread over the grid) and the robustness summary',
  async write(records: readonly ResultRecord[], outDir: string) {
    const file = join(outDir, 'report.html');
    await writeFileAtomic(file, await renderReport(records));
    return [file];
  },
};
