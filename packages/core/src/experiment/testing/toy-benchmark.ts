import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { normalSampler, seededRandom } from '@xlt/plugin-api';

/**
 * Writes a toy benchmark for {@link toyTask}: 3 classes of 4-d points around class centres, a source language and
 * targets whose points are shifted (a "language gap"), each with test, dev and train (few-shot pool) files, and an
 * experiment config over them. Returns the config path.
 */
export async function writeToyExperiment(dir: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const gauss = normalSampler(seededRandom(7));
  const centres: Record<string, number[]> = { a: [2, 0, 0, 1], b: [0, 2, 0, -1], c: [0, 0, 2, 0] };
  const write = async (file: string, n: number, shift: number) => {
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const label = 'abc'[i % 3]!;
      lines.push(`${label}\t${centres[label]!.map((c, d) => (c + 1.1 * gauss() + (d === 3 ? shift : shift / 2)).toFixed(3)).join(' ')}`);
    }
    await mkdir(join(dir, 'data'), { recursive: true });
    await writeFile(join(dir, 'data', file), `${lines.join('\n')}\n`);
  };
  await write('en-train.tsv', 60, 0);
  await write('en-dev.tsv', 30, 0);
  const targets: Record<string, unknown> = {};
  for (const [lang, shift] of [['xx', 0.5], ['yy', 1], ['zz', 1.5]] as const) {
    await write(`${lang}-test.tsv`, 45, shift);
    await write(`${lang}-dev.tsv`, 30, shift);
    targets[lang] = { test: `data/${lang}-test.tsv`, dev: `data/${lang}-dev.tsv` };
  }
  // Few-shot pools, written last so that the files above stay the same as before they existed.
  for (const [lang, shift] of [['xx', 0.5], ['yy', 1], ['zz', 1.5]] as const) {
    await write(`${lang}-train.tsv`, 30, shift);
    (targets[lang] as Record<string, unknown>).train = `data/${lang}-train.tsv`;
  }
  await mkdir(join(dir, 'init'), { recursive: true });
  const config = {
    name: 'toy-experiment',
    task: 'toy',
    model: 'init',
    source: { language: 'en', train: 'data/en-train.tsv', dev: 'data/en-dev.tsv' },
    targets,
    grid: { learningRate: [0.5, 0.1], batchSize: [8], epochs: [2], warmup: [0], seeds: [1, 2] },
    // The toy head learns at the toy's own rates (the default head phase is made for encoders).
    training: { head: { learningRate: 0.5, epochs: 2 } },
    checkpoints: { perEpoch: 2 },
    output: 'out',
    ...overrides,
  };
  const file = join(dir, 'experiment.json');
  await writeFile(file, JSON.stringify(config, null, 2));
  return file;
}
