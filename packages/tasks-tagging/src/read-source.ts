import { InputError, readText, type DatasetFormat, type DatasetSource } from '@xlt/plugin-api';

/**
 * Reads a data file (gunzipped when compressed) and picks its format: the one named by `source.format`, else the
 * first of `formats` whose `detect` accepts the file's name and first 4 KiB.
 */
export async function readWithFormat(
  source: DatasetSource,
  formats: readonly DatasetFormat[],
): Promise<{ text: string; format: DatasetFormat }> {
  const text = await readText(source.path);
  const ids = formats.map((f) => f.id).join(', ');
  if (source.format !== undefined) {
    const format = formats.find((f) => f.id === source.format);
    if (!format) throw new InputError([{ file: source.path, expected: `a format of this task (${ids})`, found: JSON.stringify(source.format) }]);
    return { text, format };
  }
  const head = text.slice(0, 4096);
  const format = formats.find((f) => f.detect(source.path, head));
  if (!format) {
    const firstLine = head.split('\n').find((l) => l.trim() !== '') ?? '';
    throw new InputError([{ file: source.path, line: 1, expected: `a file in one of the formats ${ids}`, found: firstLine === '' ? 'no data' : JSON.stringify(firstLine.slice(0, 60)) }]);
  }
  return { text, format };
}
