import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { writeFileAtomic } from '@xlt/plugin-api';

/** The folder beside `report.html` that holds the chart library, shared by every report written into that folder. */
export const REPORT_ASSETS_DIR = 'report-assets';
/** The chart library's file name inside {@link REPORT_ASSETS_DIR}. */
export const PLOTLY_FILE = 'plotly.min.js';
/** How a report refers to the chart library: relative, so the report works from `file://` and after moving its folder. */
export const PLOTLY_SRC = `${REPORT_ASSETS_DIR}/${PLOTLY_FILE}`;

let plotlySource: Promise<string> | undefined;

/** The plotly bundle's text, read once from the installed `plotly.js-dist-min` so the report needs no network. */
export function loadPlotly(): Promise<string> {
  plotlySource ??= readFile(createRequire(import.meta.url).resolve('plotly.js-dist-min/plotly.min.js'), 'utf8');
  return plotlySource;
}

/**
 * Writes `report-assets/plotly.min.js` into `outDir` unless the same bundle is already there (re-runs and other
 * reports in the folder reuse it). Returns the file's path.
 */
export async function writeReportAssets(outDir: string): Promise<string> {
  const file = join(outDir, REPORT_ASSETS_DIR, PLOTLY_FILE);
  const plotly = await loadPlotly();
  let present: string | undefined;
  try {
    present = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (present !== plotly) await writeFileAtomic(file, plotly);
  return file;
}
