import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tempDir } from '@xlt/plugin-api/testing';
import { MetricsLog, parseMetricsLog, readMetricsLog } from './metrics-log.js';

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir: root, cleanup } = await tempDir('xlt-metrics-log-')));
afterAll(() => cleanup());

describe('metrics.jsonl', () => {
  test('appends one JSON object per line as it goes, readable while open', async () => {
    const file = join(root, 'a', 'metrics.jsonl');
    const { log, removed } = await MetricsLog.open(file, 0);
    expect(removed).toBe(0);
    log.append({ step: 1, loss: 0.5 });
    expect(await readMetricsLog(file)).toEqual([{ step: 1, loss: 0.5 }]);
    log.append({ step: 2, loss: 0.25 });
    log.close();
    expect(await readFile(file, 'utf8')).toBe('{"step":1,"loss":0.5}\n{"step":2,"loss":0.25}\n');
  });

  test('a torn last line is left out by the reader and removed when the log is opened again', async () => {
    const file = join(root, 'torn.jsonl');
    await writeFile(file, '{"step":10,"loss":1}\n{"step":20,"loss":0.5}\n{"step":30,"lo');
    expect(parseMetricsLog(await readFile(file, 'utf8'), file)).toEqual({ records: [{ step: 10, loss: 1 }, { step: 20, loss: 0.5 }], tornLine: 3 });
    const { log, tornLine } = await MetricsLog.open(file, 100);
    expect(tornLine).toBe(3);
    log.append({ step: 30, loss: 0.25 });
    log.close();
    expect(await readFile(file, 'utf8')).toBe('{"step":10,"loss":1}\n{"step":20,"loss":0.5}\n{"step":30,"loss":0.25}\n');
  });

  test('opening for a session that resumes after step N removes the records of later steps', async () => {
    const file = join(root, 'resume.jsonl');
    await writeFile(file, [10, 20, 20, 30, 40].map((step) => `${JSON.stringify({ step })}\n`).join(''));
    const { log, removed } = await MetricsLog.open(file, 20);
    expect(removed).toBe(2);
    log.append({ step: 30, again: true });
    log.close();
    expect((await readMetricsLog(file)).map((r) => r.step)).toEqual([10, 20, 20, 30]);
  });

  test('a damaged line inside the log is an error naming the file, the line, what was expected and found', async () => {
    const file = join(root, 'bad.jsonl');
    await writeFile(file, '{"step":1}\nnot json\n{"step":3}\n');
    await expect(readMetricsLog(file)).rejects.toThrow(`${file}:2: expected a JSON object, found "not json"`);
    await writeFile(file, '{"step":1}\n{"loss":2}\n');
    await expect(MetricsLog.open(file, 5)).rejects.toThrow(`${file}:2: expected a JSON object with a whole-number "step" >= 0, found {"loss":2}`);
  });
});
