#!/usr/bin/env node
/**
 * `npm run bench`: xlt's native training step and eval forward against the PyTorch reference
 * (`shared/bench/torch_encoder_step.py`) on the same shapes, each in its own child process (so each peak RSS is its
 * own), alternating xlt and torch round by round. Prints medians, ratios xlt/PyTorch and peak RSS, and ends with
 * `ratio size=<name> train=<x> eval=<y>` lines.
 *
 * Flags: `--size small,mid` (default; or `base`), `--rounds N` (3 small, 2 mid, 1 base), `--warmup N`, `--iters N`,
 * `--threads N` (1, for both: 2-thread runs oversubscribe a shared 2-core box, see the README's measurements), `--python PATH` (/usr/bin/python3). `XLT_SHARED` points at the shared folder.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_SHAPES, torchFlags, type BenchShape } from './sizes.js';
import { median } from './stats.js';

interface StepResult {
  train_step: { median_ms: number };
  eval_forward: { median_ms: number } | null;
  train_phases_median_ms: { forward_loss: number; backward: number; adamw: number };
  peak_rss_mb: number;
}

const here = dirname(fileURLToPath(import.meta.url));

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

function sharedDir(): string {
  // dist/bench -> package -> packages -> repo; the shared folder sits beside the repo.
  return process.env['XLT_SHARED'] ?? resolve(here, '..', '..', '..', '..', '..', 'shared');
}

function lastJson(stdout: string, what: string): StepResult {
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as StepResult;
  } catch {
    throw new Error(`${what} printed no JSON result line; its output ended with: ${line.slice(0, 200)}`);
  }
}

function run(cmd: string, args: string[], what: string, env: NodeJS.ProcessEnv = process.env): StepResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}): ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' | ')}`);
  return lastJson(r.stdout, what);
}

function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

function main(): void {
  const sizes = flag('size', 'small,mid').split(',');
  const threads = flag('threads', '1');
  const python = flag('python', '/usr/bin/python3');
  const script = join(sharedDir(), 'bench', 'torch_encoder_step.py');
  if (!existsSync(script)) throw new Error(`PyTorch reference not found at ${script}; set XLT_SHARED to the shared folder`);
  const xltChild = join(here, 'xlt-step.js');
  // The addon waits passively between OpenMP regions; give torch the same policy, else its spinning threads
  // collapse on a shared 2-core machine (as the addon's threads would; README, "Threads") and the ratio measures the neighbours.
  const env = { ...process.env, OMP_WAIT_POLICY: process.env['OMP_WAIT_POLICY'] ?? 'PASSIVE' };
  const lines: string[] = [];
  const rows: string[][] = [['shape', 'impl', 'train step', 'fwd / bwd / adamw', 'eval fwd', 'peak RSS']];
  for (const size of sizes) {
    const shapes = BENCH_SHAPES[size];
    if (!shapes) throw new Error(`--size: expected one of ${Object.keys(BENCH_SHAPES).join(', ')}, found "${size}"`);
    const big = size === 'base';
    const rounds = Number(flag('rounds', big ? '1' : size === 'small' ? '3' : '2'));
    const warmup = flag('warmup', big ? '1' : '2');
    const iters = flag('iters', big ? '3' : size === 'small' ? '10' : '5');
    for (const s of shapes) {
      const xs: StepResult[] = [], ts: StepResult[] = [];
      for (let r = 0; r < rounds; r++) {
        const runXlt = () => xs.push(run(process.execPath, [xltChild, JSON.stringify(s), warmup, iters, threads], `xlt ${s.name}`, env));
        const runTorch = () =>
          ts.push(run(python, [script, ...torchFlags(s), '--threads', threads, '--warmup', warmup, '--iters', iters], `torch ${s.name}`, env));
        if (r % 2 === 0) { runXlt(); runTorch(); } else { runTorch(); runXlt(); }
        process.stderr.write(`${s.name} round ${r + 1}/${rounds}: xlt ${fmt(xs.at(-1)!.train_step.median_ms)} torch ${fmt(ts.at(-1)!.train_step.median_ms)}\n`);
      }
      const agg = (rs: StepResult[]) => ({
        train: median(rs.map((r) => r.train_step.median_ms)),
        evalMs: median(rs.map((r) => r.eval_forward?.median_ms ?? NaN)),
        fwd: median(rs.map((r) => r.train_phases_median_ms.forward_loss)),
        bwd: median(rs.map((r) => r.train_phases_median_ms.backward)),
        opt: median(rs.map((r) => r.train_phases_median_ms.adamw)),
        rss: Math.max(...rs.map((r) => r.peak_rss_mb)),
      });
      const x = agg(xs), t = agg(ts);
      const shapeText = `${s.name} (L${s.layers} H${s.hidden} V${s.vocab} ${s.batch}x${s.seq})`;
      for (const [impl, a] of [['xlt native', x], ['pytorch', t]] as const) {
        rows.push([shapeText, impl, fmt(a.train), `${fmt(a.fwd)} / ${fmt(a.bwd)} / ${fmt(a.opt)}`, fmt(a.evalMs), `${a.rss.toFixed(0)} MB`]);
      }
      rows.push([shapeText, 'ratio xlt/torch', (x.train / t.train).toFixed(2), `${(x.fwd / t.fwd).toFixed(2)} / ${(x.bwd / t.bwd).toFixed(2)} / ${(x.opt / t.opt).toFixed(2)}`, (x.evalMs / t.evalMs).toFixed(2), (x.rss / t.rss).toFixed(2)]);
      const key = big ? s.name : size;
      lines.push(`ratio size=${key} train=${(x.train / t.train).toFixed(2)} eval=${(x.evalMs / t.evalMs).toFixed(2)}${big ? ` rss=${(x.rss / t.rss).toFixed(2)}` : ''}`);
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
  console.log(`threads=${threads} and OMP_WAIT_POLICY=${env.OMP_WAIT_POLICY} for both; times are medians over rounds of per-process medians; peak RSS is each child's maximum.`);
  for (const l of lines) console.log(l);
}

try {
  main();
} catch (e) {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
}
