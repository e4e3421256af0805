import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WeightedPath } from '../average-checkpoints.js';

/** The NumPy transcription of the methods (tests only): `reference/merge_methods_reference.py`. */
export const REFERENCE_SCRIPT = join(import.meta.dirname, '../../reference/merge_methods_reference.py');
const PYTHON = process.env['XLT_PYTHON'] ?? '/usr/bin/python3';

/** One merge as the reference script takes it. */
export interface ReferenceCase {
  readonly method: string;
  readonly params?: Record<string, unknown>;
  readonly models: readonly WeightedPath[];
  readonly base?: string;
}

/**
 * Runs the NumPy reference on a case and returns every merged float tensor by name (float64 values). Fails, never
 * skips, without NumPy: the suite is offline but needs Debian's python3-numpy.
 */
export async function numpyReference(dir: string, c: ReferenceCase): Promise<Record<string, number[]>> {
  const file = join(dir, `case-${c.method}-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify({ ...c, base: c.base ?? null }));
  const run = spawnSync(PYTHON, [REFERENCE_SCRIPT, file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`${REFERENCE_SCRIPT} failed (needs ${PYTHON} with numpy: apt-get install python3-numpy):\n${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, number[]>;
}
