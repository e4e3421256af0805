import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';

const pkg = join(import.meta.dirname, '..', '..');
const python = process.env['XLT_PYTHON'] ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

/**
 * The device check is only run on a lent GPU, minutes at a time, so it must not fail there for a reason a CPU
 * machine could have shown: this prepares it (type-check, bundle, CPU loss curve; the GPU addon and the packed node
 * are left out) and runs the bundle end to end on the emulated build, with fewer loss-curve steps, the small
 * benchmark shape and no PyTorch GPU baseline.
 */
test('the device check type-checks, bundles and runs end to end on the emulated CUDA build', () => {
  const prepare = spawnSync(process.execPath, [join(pkg, 'device', 'prepare.mjs'), '--no-build', '--no-node'], { encoding: 'utf8' });
  expect(prepare.status, `${prepare.stdout}\n${prepare.stderr}`).toBe(0);
  expect(prepare.stdout).toMatch(/CPU loss curve: 300 steps, 1\.39\d+ -> 0\.0\d+/);
  const out = mkdtempSync(join(tmpdir(), 'xlt-device-check-'));
  try {
    const args = ['--addon', join(pkg, 'build-cuda', 'emulated', 'xlt_cuda.node'), '--reference-curve', join(pkg, 'device', 'dist', 'cpu-loss-curve.json'), '--reference-script', join(pkg, '..', 'plugin-api', 'reference', 'backend_reference.py'), '--python', python, '--curve-steps', '12', '--shapes', 'small', '--no-torch', '--out', out];
    const run = spawnSync(process.execPath, [join(pkg, 'device', 'dist', 'check.mjs'), ...args], { encoding: 'utf8' });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    for (const precision of ['fp32', 'tf32', 'bf16']) {
      expect(run.stdout).toMatch(new RegExp(`conformance ${precision}: (\\d+)/\\1 passed`));
      expect(run.stdout).toMatch(new RegExp(`loss curve ${precision}: 12 steps .*: ok`));
      expect(run.stdout).toMatch(new RegExp(`bench small 2x16 ${precision}: xlt \\d+\\.\\d ms`));
    }
    expect(run.stdout).toContain('determinism: a second tf32 run of 12 steps gives bitwise the same losses');
    const results = JSON.parse(readFileSync(join(out, 'device-check.json'), 'utf8')) as { failed: number; bench: unknown[] };
    expect(results.failed).toBe(0);
    expect(results.bench).toHaveLength(3);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 900_000);
