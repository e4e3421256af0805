#!/usr/bin/env node
// Builds the libFuzzer harness over the native addon's entry points (fuzz/addon-entry-points.fuzz.cc) into
// build/fuzz/, replays the committed regression inputs (fuzz/regressions/), then fuzzes for a fixed budget.
//
//   node scripts/fuzz-addon.mjs                 # 60 s (what CI runs)
//   node scripts/fuzz-addon.mjs --seconds 3600  # longer
//   node scripts/fuzz-addon.mjs --jobs 2        # parallel fuzzing processes (libFuzzer -jobs/-workers)
//   node scripts/fuzz-addon.mjs --replay-only   # build and replay fuzz/regressions/ only
//   node scripts/fuzz-addon.mjs -- -max_len=2048 ...   # anything after -- goes to libFuzzer
//
// Needs clang++ with libFuzzer (clang >= 6; CLANGXX overrides the compiler) and OpenBLAS (libopenblas-dev). Exits
// non-zero on a crash and prints the command that reproduces it; crash inputs go to build/fuzz/artifacts/.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build', 'fuzz');
const binary = join(out, 'addon-entry-points');
const artifacts = join(out, 'artifacts');
const corpus = join(out, 'corpus');
const seeds = join(out, 'seeds');
const regressions = join(root, 'fuzz', 'regressions');

function usage(message) {
  if (message) console.error(`fuzz-addon: ${message}`);
  console.error('usage: node scripts/fuzz-addon.mjs [--seconds N] [--jobs N] [--rss-limit-mb N] [--replay-only] [-- libFuzzer flags]');
  process.exit(2);
}

const argv = process.argv.slice(2);
const opts = { seconds: 60, jobs: 1, rss: 2048, replayOnly: false, extra: [] };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const value = () => {
    const v = Number(argv[++i]);
    if (!Number.isInteger(v) || v < 1) usage(`${a} needs a whole number >= 1, found ${argv[i]}`);
    return v;
  };
  if (a === '--seconds') opts.seconds = value();
  else if (a === '--jobs') opts.jobs = value();
  else if (a === '--rss-limit-mb') opts.rss = value();
  else if (a === '--replay-only') opts.replayOnly = true;
  else if (a === '--') {
    opts.extra = argv.slice(i + 1);
    break;
  } else if (a === '--help' || a === '-h') usage();
  else usage(`unknown argument ${a}`);
}

// ---- build ------------------------------------------------------------------------------------------------------
const cxx = process.env.CLANGXX ?? 'clang++';
const sources = ['native/entry-checks.cc', 'native/encoder.cc', 'native/kernels.cc', 'fuzz/addon-entry-points.fuzz.cc'];
const headers = ['native/entry-checks.h', 'native/encoder.h', 'native/kernels.h', 'fuzz/omp-serial/omp.h'];
const sanitize = ['-fsanitize=fuzzer,address,undefined', '-fno-sanitize-recover=undefined'];
const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
// The addon's x64 flags (binding.gyp): AVX2 + libmvec erf/exp. Without AVX2 both builds use the scalar path.
const x64v3 = process.arch === 'x64' && /\bavx2\b/.test(cpuinfo) && /\bfma\b/.test(cpuinfo);
const cflags = [
  '-std=c++17', '-gline-tables-only', '-O1', ...sanitize, '-fno-omit-frame-pointer',
  ...(x64v3 ? ['-march=x86-64-v3', '-DXLT_LIBMVEC'] : []),
  `-I${join(root, 'fuzz', 'omp-serial')}`, `-I${join(root, 'native')}`,
  '-I/usr/include/x86_64-linux-gnu/openblas-pthread', '-I/usr/include/openblas',
];
const ldflags = [...sanitize, '-Wl,--wrap=cblas_sgemm', '-lopenblas', ...(x64v3 ? ['-lmvec'] : [])];

function mtime(p) {
  return existsSync(p) ? statSync(p).mtimeMs : 0;
}

function exec(cmd, args) {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', (e) => resolvePromise({ status: 127, error: e }));
    child.on('exit', (status, signal) => resolvePromise({ status: status ?? 128, signal }));
  });
}

async function build() {
  mkdirSync(out, { recursive: true });
  const newest = Math.max(...[...sources, ...headers, 'scripts/fuzz-addon.mjs'].map((f) => mtime(join(root, f))));
  if (mtime(binary) > newest) {
    console.log(`fuzz-addon: ${relative(process.cwd(), binary)} is up to date`);
    return;
  }
  const started = Date.now();
  const objects = sources.map((s) => join(out, `${s.replaceAll('/', '_')}.o`));
  // Compile the four sources in parallel (the harness build is most of the CI time), then link.
  const results = await Promise.all(sources.map((s, i) => exec(cxx, [...cflags, '-c', join(root, s), '-o', objects[i]])));
  const failed = results.findIndex((r) => r.status !== 0);
  if (failed >= 0) {
    const r = results[failed];
    console.error(`fuzz-addon: compiling ${sources[failed]} failed${r.error ? `: ${r.error.message} (set CLANGXX to a clang++ with libFuzzer)` : ''}`);
    process.exit(1);
  }
  const link = await exec(cxx, [...objects, ...ldflags, '-o', binary]);
  if (link.status !== 0) {
    console.error('fuzz-addon: linking the harness failed (needs OpenBLAS: libopenblas-dev)');
    process.exit(1);
  }
  console.log(`fuzz-addon: built ${relative(process.cwd(), binary)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

// ---- seed corpus ------------------------------------------------------------------------------------------------
// The harness's input: byte 0 = number of calls, then one byte per call, then the parameter stream (config bytes
// first); a stream that runs out reads as zeros, which pick every typical (valid) value. So a seed is a list of calls
// and a config, a valid call sequence.
const OP = { fwdEval: 0, fwdTrain: 1, backward: 2, zero: 3, scale: 4, norm: 5, touch: 6, moments: 7, adamw: 8, gemm: 9, dropout: 10, threads: 11, dispose: 12 };
const training = [OP.zero, OP.fwdTrain, OP.backward, OP.norm, OP.scale, OP.adamw];
const sequences = {
  'train-steps': [...training, ...training, OP.fwdEval],
  'every-call': [OP.fwdEval, OP.fwdTrain, OP.backward, OP.touch, OP.norm, OP.scale, OP.moments, OP.adamw, OP.zero, OP.gemm, OP.dropout, OP.threads, OP.fwdTrain, OP.backward, OP.dispose, OP.fwdEval],
  'eval-then-backward': [OP.fwdTrain, OP.fwdEval, OP.backward, OP.adamw],
  'module-calls': [OP.gemm, OP.gemm, OP.dropout, OP.threads, OP.gemm],
};
// Config bytes: layers, heads, head size, ffn, vocab, maxPos, typeVocab, padding rows (see the harness's construct()).
const configs = {
  'default': [],
  'no-layers': [3, 0, 0, 0, 0, 0, 0, 0],
  'three-layers-4-heads': [2, 2, 1, 5, 9, 3, 1, 4],
  'xlmr-like-pads': [1, 0, 4, 0, 0, 0, 2, 8],
  'one-head-tiny-vocab': [0, 3, 6, 2, 28, 12, 2, 2],
};

function writeSeeds() {
  rmSync(seeds, { recursive: true, force: true });
  mkdirSync(seeds, { recursive: true });
  for (const [sname, calls] of Object.entries(sequences)) {
    for (const [cname, config] of Object.entries(configs)) {
      writeFileSync(join(seeds, `${sname}--${cname}`), Buffer.from([calls.length, ...calls, ...config]));
    }
  }
}

// ---- run --------------------------------------------------------------------------------------------------------
function listFiles(dir) {
  return existsSync(dir) ? readdirSync(dir).filter((f) => !f.startsWith('.') && !f.endsWith('.md')).map((f) => join(dir, f)) : [];
}

const env = {
  ...process.env,
  ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? 'detect_leaks=1:allocator_may_return_null=0',
  UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ?? 'print_stacktrace=1:halt_on_error=1',
  OPENBLAS_NUM_THREADS: '1',
};

function reportCrash(before) {
  const found = listFiles(artifacts).filter((f) => !before.has(f));
  console.error('\nfuzz-addon: the fuzzer found a crash.');
  for (const f of found) {
    console.error(`  input: ${relative(process.cwd(), f)}`);
    console.error(`  reproduce: ${relative(process.cwd(), binary)} ${relative(process.cwd(), f)}`);
  }
  if (found.length === 0) console.error(`  (no new file in ${relative(process.cwd(), artifacts)}; see the log above)`);
  console.error('After the fix, copy the input into packages/backend-native/fuzz/regressions/ so every run replays it first.');
}

await build();
writeSeeds();
mkdirSync(artifacts, { recursive: true });
mkdirSync(corpus, { recursive: true });

const replay = listFiles(regressions);
if (replay.length > 0) {
  const r = spawnSync(binary, [...replay], { stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`\nfuzz-addon: a committed regression input crashes again. Reproduce with:\n  ${relative(process.cwd(), binary)} <file>  for the file named above (in ${relative(process.cwd(), regressions)})`);
    process.exit(1);
  }
  console.log(`fuzz-addon: replayed ${replay.length} regression input(s) from fuzz/regressions/: no crash`);
}
if (opts.replayOnly) process.exit(0);

const before = new Set(listFiles(artifacts));
const flags = [
  `-max_total_time=${opts.seconds}`,
  `-rss_limit_mb=${opts.rss}`,
  '-timeout=20',
  '-max_len=512',
  '-print_final_stats=1',
  `-artifact_prefix=${artifacts}/`,
  ...(opts.jobs > 1 ? [`-jobs=${opts.jobs}`, `-workers=${opts.jobs}`] : []),
  ...opts.extra,
];
console.log(`fuzz-addon: fuzzing for ${opts.seconds} s${opts.jobs > 1 ? ` in ${opts.jobs} jobs (logs: build/fuzz/fuzz-*.log)` : ''}`);
// New inputs go to the first folder (build/fuzz/corpus, kept between local runs); seeds and regressions are read.
const r = spawnSync(binary, [...flags, corpus, seeds, ...(replay.length ? [regressions] : [])], { stdio: 'inherit', env, cwd: out });
if (r.status !== 0) {
  reportCrash(before);
  process.exit(1);
}
console.log(`fuzz-addon: ${opts.seconds} s of fuzzing, no crash`);
