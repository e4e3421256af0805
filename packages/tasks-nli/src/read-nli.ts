import { describeFound, InputError, readText, type DatasetFormat, type DatasetSource } from '@xlt/plugin-api';
import { americasNliTsvFormat, parseAmericasNliTsv } from './americasnli-tsv-reader.js';
import { nliJsonlFormat, parseNliJsonl } from './jsonl-reader.js';
import type { NliExample } from './nli-example.js';
import { readSnliFiles, snliFilesFormat } from './snli-files-reader.js';
import { parseXnliTsv, xnliTsvFormat } from './xnli-tsv-reader.js';

/** The formats the NLI task reads; the first is the default. */
export const NLI_FORMATS: readonly DatasetFormat[] = Object.freeze([xnliTsvFormat, americasNliTsvFormat, snliFilesFormat, nliJsonlFormat]);

// Detection order: the name-based SNLI check first (its lines are bare sentences), then the formats whose head
// is most specific (a JSON object, a header row), and the header-less XNLI rows last.
const DETECTION_ORDER: readonly DatasetFormat[] = [snliFilesFormat, nliJsonlFormat, americasNliTsvFormat, xnliTsvFormat];

/** The format of a file: the one named, else the first that recognises the file's name and first bytes. */
export function nliFormatOf(source: DatasetSource, head: string): DatasetFormat {
  if (source.format !== undefined) {
    const named = NLI_FORMATS.find((f) => f.id === source.format);
    if (!named) {
      throw new InputError([{ file: source.path, path: 'format', expected: `one of the NLI formats ${NLI_FORMATS.map((f) => f.id).join(', ')}`, found: describeFound(source.format) }]);
    }
    return named;
  }
  const detected = DETECTION_ORDER.find((f) => f.detect(source.path, head));
  if (!detected) {
    throw new InputError(
      [{ file: source.path, line: 1, expected: `a file in one of the NLI formats (${NLI_FORMATS.map((f) => `${f.id}: ${f.description}`).join('; ')})`, found: describeFound(head.split('\n')[0]) }],
      `Cannot tell the NLI format of ${source.path}; name it with "format".`,
    );
  }
  return detected;
}

/** Reads an NLI data set in any of {@link NLI_FORMATS}; `.gz` files are gunzipped transparently. */
export async function readNli(source: DatasetSource): Promise<NliExample[]> {
  // SNLI is known from the name alone, and its path may be any of its three files.
  if (source.format === snliFilesFormat.id || (source.format === undefined && snliFilesFormat.detect(source.path, ''))) {
    return readSnliFiles(source.path);
  }
  const text = await readText(source.path);
  const format = nliFormatOf(source, text.slice(0, 4096));
  switch (format.id) {
    case americasNliTsvFormat.id:
      return parseAmericasNliTsv(text, source.path);
    case nliJsonlFormat.id:
      return parseNliJsonl(text, source.path);
    case snliFilesFormat.id:
      return readSnliFiles(source.path);
    default:
      return parseXnliTsv(text, source.path);
  }
}
