import { join } from 'node:path';
import { type ResultRecord, type ResultsSink, writeFileAtomic } from '@xlt/plugin-api';
import { readCheckpointScores } from './checkpoint-scores.js';
import { renderReport } from './html-report.js';
import { writeReportAssets } from './report-assets.js';

/** Options of {@link createHtmlReportSink}. */
export interface HtmlReportSinkOptions {
  /** Inline the chart library into `report.html` (a single file of about 5 MB) instead of `report-assets/plotly.min.js`. */
  readonly inlineAssets?: boolean;
}

/**
 * A `report.html` sink (see {@link renderReport}). It reads the runs' per-checkpoint target-dev scores from
 * `runs/*\/done.json` under the output folder for the training trajectory view and, unless `inlineAssets`, writes
 * the chart library once into `report-assets/` beside the report. Bind one made with `inlineAssets: true` in
 * place of {@link htmlReportSink} for single-file reports.
 */
export function createHtmlReportSink(options: HtmlReportSinkOptions = {}): ResultsSink {
  return {
    id: 'html-report',
    description: options.inlineAssets
      ? 'report.html: one file with every view (per-language scores, spread, training trajectory, CA − last per run, by hyperparameter, counts)'
      : 'report.html (+ report-assets/plotly.min.js): per-language scores, spread, training trajectory, CA − last per run, by hyperparameter, counts',
    async write(records: readonly ResultRecord[], outDir: string) {
      const file = join(outDir, 'report.html');
      const written: string[] = [];
      if (!options.inlineAssets) written.push(await writeReportAssets(outDir));
      await writeFileAtomic(file, await renderReport(records, { checkpointScores: await readCheckpointScores(outDir), inlineAssets: options.inlineAssets ?? false }));
      return [file, ...written];
    },
  };
}

/** The default `html-report` sink: `report.html` with the chart library in `report-assets/plotly.min.js` beside it. */
export const htmlReportSink: ResultsSink = createHtmlReportSink();
