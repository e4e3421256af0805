/**
 * The CUDA backend's device check: one script for a GPU machine that has Node (carried) but no node_modules, bundled
 * by `device/prepare.mjs` into `device/dist/check.mjs` and run by `device/run.sh`. In order:
 * 1. the backend conformance suite against PyTorch, on the GPU, in fp32, TF32 and bf16 (plugin-api's tolerances);
 * 2. 300 steps of a small fine-tune in each precision, whose loss curve must match the CPU backend's (computed by
 *    `prepare.mjs` on the CPU and carried), and a repeat that must give bitwise the same losses;
 * 3. the encoder training step of XLM-R base and mBERT base at batch 32 x 128, xlt against PyTorch eager
 *    (`device/torch_step.py`: fp32, TF32, bf16 autocast) side by side: step time, tokens/s, ratio and MFU.
 * Prints every figure and writes them to `<out>/device-check.json`; exits 1 when a check fails.
 *
 * Flags: --addon PATH (the GPU build), --reference-curve FILE, --torch FILE, --python PATH, --reference-script FILE,
 * --out DIR, --shapes xlmr-base,mbert-base, --curve-steps 300, --no-torch. `--make-reference FILE` instead writes the
 * CPU loss curve (native backend) and exits.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BACKEND_TOLERANCES, runBackendConformance, type BackendPrecision } from '@xlt/plugin-api/testing';
import { bertProvider } from '../../core/src/encoders/bert-provider.js';
import { xlmRobertaProvider } from '../../core/src/encoders/xlm-roberta-provider.js';
import { CudaBackend, type CudaPrecision } from '../src/cuda-backend.js';
import { NativeBackend } from '../src/native-backend.js';
import { DEVICE_BENCH_SHAPES, stepFlops, timeEncoderStep } from '../src/device/bench-step.js';
import { compareCurves, lossCurve } from '../src/device/loss-curve.js';
import { createRunner } from '../src/device/mini-runner.js';

function flag(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const PRECISIONS: readonly [CudaPrecision, BackendPrecision][] = [['fp32', 'float32'], ['tf32', 'tf32'], ['bf16', 'bf16']];

/**
 * Loss-curve tolerances against the CPU backend over 300 steps (the loss falls from 1.39 to 0.017): the largest
 * per-step difference and the difference of the last 50 steps' means. Measured with the emulated build, which
 * rounds product inputs exactly as TF32 / bf16 do: TF32 2.6e-3 and 9.1e-7, bf16 5.9e-3 and 6.8e-6. The tolerances
 * leave about 8x for the GPU's other summation orders; fp32 gets TF32's measured figure.
 */
export const CURVE_TOLERANCES: Readonly<Record<CudaPrecision, { maxStep: number; meanLast50: number }>> = {
  fp32: { maxStep: 3e-3, meanLast50: 1e-4 },
  tf32: { maxStep: 2e-2, meanLast50: 1e-4 },
  bf16: { maxStep: 5e-2, meanLast50: 1e-4 },
};

/** Dense peak TFLOP/s by GPU and precision, from NVIDIA's data sheets (SXM parts), for MFU. */
function peakTflops(device: string, precision: string): number | undefined {
  const table: [RegExp, Record<string, number>][] = [
    [/H200|H100/, { fp32: 66.9, tf32: 494.7, bf16: 989.4 }],
    [/A100/, { fp32: 19.5, tf32: 156, bf16: 312 }],
  ];
  return table.find(([re]) => re.test(device))?.[1][precision];
}

async function main(): Promise<number> {
  const reference = flag('make-reference');
  if (reference) {
    const losses = await lossCurve(new NativeBackend(), Number(flag('curve-steps', '300')));
    writeFileSync(`${reference}.tmp`, JSON.stringify({ backend: 'native', losses }));
    renameSync(`${reference}.tmp`, reference);
    console.log(`CPU loss curve: ${losses.length} steps, ${losses[0]!.toFixed(4)} -> ${losses.at(-1)!.toFixed(4)}, written to ${reference}`);
    return 0;
  }
  const addonPath = resolve(flag('addon')!);
  const out = flag('out', '.')!;
  const python = flag('python', 'python3')!;
  const results: Record<string, unknown> = { node: process.version };
  let failed = 0;
  const probe = await new CudaBackend({ addonPath, precision: 'tf32' }).probe();
  results['probe'] = probe;
  console.log(`cuda probe: ${probe.available ? 'available' : 'UNAVAILABLE'}: ${probe.detail}`);
  if (!probe.available) return 1;
  const device = probe.detail.split(',')[0]!;

  // 1. Conformance on the GPU.
  const conformance: Record<string, unknown> = {};
  for (const [precision, tolerances] of PRECISIONS) {
    const { api, run } = createRunner();
    const measured: string[] = [];
    const referenceScript = flag('reference-script');
    runBackendConformance({ runner: api, backend: new CudaBackend({ addonPath, precision }), providers: [bertProvider, xlmRobertaProvider], precision: tolerances, python, ...(referenceScript ? { referenceScript } : {}), log: (l) => measured.push(l) });
    const outcomes = await run();
    const bad = outcomes.filter((o) => !o.passed);
    failed += bad.length;
    console.log(`conformance ${precision}: ${outcomes.length - bad.length}/${outcomes.length} passed (tolerances: ${JSON.stringify(BACKEND_TOLERANCES[tolerances])})`);
    for (const l of measured) console.log(`  ${l}`);
    for (const b of bad) console.log(`  FAILED ${b.name}: ${b.error}`);
    conformance[precision] = { passed: outcomes.length - bad.length, total: outcomes.length, failures: bad, measured };
  }
  results['conformance'] = conformance;

  // 2. Loss curves against the CPU backend's, and a repeat.
  const curveFile = flag('reference-curve');
  const steps = Number(flag('curve-steps', '300'));
  if (curveFile) {
    const cpu = (JSON.parse(readFileSync(curveFile, 'utf8')) as { losses: number[] }).losses.slice(0, steps);
    const curves: Record<string, unknown> = {};
    for (const [precision] of PRECISIONS) {
      const t0 = performance.now();
      const losses = await lossCurve(new CudaBackend({ addonPath, precision }), steps);
      const ms = performance.now() - t0;
      const d = compareCurves(losses, cpu);
      const tol = CURVE_TOLERANCES[precision];
      const ok = d.maxStep <= tol.maxStep && d.meanLast50 <= tol.meanLast50;
      if (!ok) failed++;
      console.log(`loss curve ${precision}: ${steps} steps in ${(ms / 1000).toFixed(1)} s, ${losses[0]!.toFixed(4)} -> ${losses.at(-1)!.toFixed(4)} (CPU ${cpu[0]!.toFixed(4)} -> ${cpu.at(-1)!.toFixed(4)}); max step diff ${d.maxStep.toExponential(2)} (<= ${tol.maxStep}), last-50 mean diff ${d.meanLast50.toExponential(2)} (<= ${tol.meanLast50}): ${ok ? 'ok' : 'FAILED'}`);
      curves[precision] = { ...d, tolerance: tol, ok, first: losses[0], last: losses.at(-1), seconds: ms / 1000, losses };
    }
    const again = await lossCurve(new CudaBackend({ addonPath, precision: 'tf32' }), steps);
    const first = (curves['tf32'] as { losses: number[] }).losses;
    const repeatable = again.every((x, i) => Object.is(x, first[i]));
    if (!repeatable) failed++;
    console.log(`determinism: a second tf32 run of ${steps} steps gives ${repeatable ? 'bitwise the same' : 'DIFFERENT'} losses`);
    results['curves'] = { ...curves, repeatable };
  }

  // 3. Benchmark against PyTorch eager.
  const bench: unknown[] = [];
  for (const name of flag('shapes', 'xlmr-base,mbert-base')!.split(',')) {
    const s = DEVICE_BENCH_SHAPES[name];
    if (!s) throw new Error(`--shapes: unknown shape '${name}'`);
    const flops = stepFlops(s), tokens = s.batch * s.seq;
    const torch: Record<string, number> = {};
    if (!process.argv.includes('--no-torch')) {
      const args = [flag('torch')!, '--model', s.modelType, '--layers', s.layers, '--hidden', s.hidden, '--heads', s.heads, '--ffn', s.ffn, '--vocab', s.vocab, '--max-pos', s.maxPos, '--batch', s.batch, '--seq', s.seq].map(String);
      const r = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
      if (r.status !== 0) {
        failed++;
        console.log(`PyTorch reference failed: ${r.stderr.slice(-2000)}`);
      }
      for (const line of (r.stdout ?? '').split('\n').filter((l) => l.startsWith('{'))) {
        const j = JSON.parse(line) as { mode: string; median_ms: number };
        torch[j.mode] = j.median_ms;
      }
    }
    for (const [precision] of PRECISIONS) {
      const { ms } = await timeEncoderStep(new CudaBackend({ addonPath, precision }), s, 3, 10);
      const peak = peakTflops(device, precision);
      const mfu = (t: number | undefined) => (t && peak ? (flops / (t / 1000) / 1e12 / peak) * 100 : undefined);
      const row = { shape: s.name, batch: `${s.batch}x${s.seq}`, precision, xlt_ms: ms, torch_ms: torch[precision], ratio: torch[precision] ? ms / torch[precision]! : undefined, xlt_tokens_per_s: tokens / (ms / 1000), torch_tokens_per_s: torch[precision] ? tokens / (torch[precision]! / 1000) : undefined, xlt_mfu_pct: mfu(ms), torch_mfu_pct: mfu(torch[precision]), model_gflop: flops / 1e9 };
      bench.push(row);
      const f = (x: number | undefined, d = 1) => (x === undefined ? 'n/a' : x.toFixed(d));
      console.log(`bench ${s.name} ${row.batch} ${precision}: xlt ${f(ms)} ms (${f(row.xlt_tokens_per_s, 0)} tok/s, MFU ${f(row.xlt_mfu_pct)}%) | PyTorch eager ${f(row.torch_ms)} ms (${f(row.torch_tokens_per_s, 0)} tok/s, MFU ${f(row.torch_mfu_pct)}%) | ratio xlt/PyTorch ${f(row.ratio, 2)}`);
    }
  }
  results['bench'] = bench;
  results['failed'] = failed;
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'device-check.json.tmp'), JSON.stringify(results, null, 2));
  renameSync(join(out, 'device-check.json.tmp'), join(out, 'device-check.json'));
  console.log(failed ? `DEVICE CHECK FAILED: ${failed} failure(s)` : 'device check passed');
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(e.stack ?? e.message);
    process.exit(1);
  },
);
