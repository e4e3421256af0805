#!/usr/bin/env node
// Coverage-guided fuzzing of xlt's JavaScript parsers with libFuzzer (see README.md).
//
//   node tools/fuzz-js/run.mjs [--target NAME|all] [--seconds N] [-- extra libFuzzer flags]
//   node tools/fuzz-js/run.mjs --target NAME path/to/crash ...     replay inputs, no fuzzing
//
// Builds the driver addon when needed, replays regressions/<target>/, then fuzzes for a fixed time. Exits
// non-zero on the first crash, after saying how to replay it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const here = import.meta.dirname;
const build = join(here, 'build');
const addon = join(build, 'libfuzzer-driver.node');
const source = join(here, 'native', 'libfuzzer-driver.cc');
const targets = readdirSync(join(here, 'targets')).filter((f) => f.endsWith('.mjs')).map((f) => f.slice(0, -4)).sort();

const args = process.argv.slice(2);
let names = targets;
let seconds = 30;
const inputs = [];
const extra = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--target') names = args[++i] === 'all' ? targets : [args[i]];
  else if (a === '--seconds') seconds = Number(args[++i]);
  else if (a === '--') extra.push(...args.splice(i + 1));
  else if (a === '--help' || a === '-h') usage(0);
  else if (a.startsWith('-')) usage(2, `unknown option ${a}`);
  else inputs.push(resolve(a));
}
for (const n of names) if (!targets.includes(n)) usage(2, `unknown target ${n}; targets: ${targets.join(', ')}`);
if (!(seconds > 0)) usage(2, '--seconds takes a positive number');
if (inputs.length > 0 && names.length !== 1) usage(2, 'replaying inputs needs one --target');

function usage(code, message) {
  if (message) console.error(message);
  console.error(`usage: node ${relative(process.cwd(), import.meta.filename)} [--target NAME|all] [--seconds N] [-- libFuzzer flags]`);
  console.error(`       node ${relative(process.cwd(), import.meta.filename)} --target NAME INPUT...   (replay)`);
  console.error(`targets: ${targets.join(', ')}`);
  process.exit(code);
}

buildAddon();
const replay = (name) => `node ${relative(process.cwd(), import.meta.filename)} --target ${name}`;
for (const name of names) {
  const target = join(here, 'targets', `${name}.mjs`);
  if (inputs.length > 0) {
    process.exit(runChild(target, [...inputs, ...extra]) === 0 ? 0 : 1);
  }
  const regressions = join(here, 'regressions', name);
  const saved = existsSync(regressions) ? readdirSync(regressions).filter((f) => !f.startsWith('.') && !f.endsWith('.md')) : [];
  if (saved.length > 0) {
    console.log(`fuzz-js: ${name}: replaying ${saved.length} regression input(s)`);
    if (runChild(target, saved.map((f) => join(regressions, f))) !== 0) {
      console.error(`fuzz-js: ${name}: a regression input fails again; replay it with ${replay(name)} ${relative(process.cwd(), regressions)}/<file>`);
      process.exit(1);
    }
  }
  const corpus = join(build, `corpus-${name}`);
  const artifacts = join(build, 'artifacts', name);
  mkdirSync(corpus, { recursive: true });
  mkdirSync(artifacts, { recursive: true });
  const { seeds } = await import(target);
  for (const [seed, bytes] of Object.entries(seeds())) writeFileSync(join(corpus, `seed-${seed}`), bytes);
  const dict = join(here, 'targets', `${name}.dict`);
  const flags = [
    `-max_total_time=${seconds}`,
    '-timeout=10',
    '-max_len=4096',
    '-print_final_stats=1',
    `-artifact_prefix=${artifacts}/`,
    ...(existsSync(dict) ? [`-dict=${dict}`] : []),
    ...extra,
    corpus,
  ];
  console.log(`fuzz-js: ${name}: fuzzing for ${seconds} s (corpus ${relative(process.cwd(), corpus)})`);
  const before = new Set(readdirSync(artifacts));
  if (runChild(target, flags) !== 0) {
    const found = readdirSync(artifacts).filter((f) => !before.has(f)).map((f) => relative(process.cwd(), join(artifacts, f)));
    console.error(`\nfuzz-js: ${name}: CRASH. Input: ${found.join(', ') || '(see libFuzzer output above)'}`);
    for (const f of found) console.error(`  replay:  ${replay(name)} ${f}`);
    console.error(`  keep it as a regression test: copy it to ${relative(process.cwd(), regressions)}/ once fixed`);
    process.exit(1);
  }
}

function runChild(target, flags) {
  const r = spawnSync(process.execPath, [join(here, 'lib', 'child.mjs'), target, ...flags], { stdio: 'inherit' });
  if (r.error) throw r.error;
  return r.status ?? 128 + 1;
}

function buildAddon() {
  if (existsSync(addon) && statSync(addon).mtimeMs >= statSync(source).mtimeMs) return;
  const clang = ['clang++-14', 'clang++'].find((c) => spawnSync(c, ['--version']).status === 0);
  if (!clang) fail('clang++ not found (Debian: apt-get install clang-14)');
  // libFuzzer without its main(), so that the addon's runFuzzer() can drive it.
  const resourceDir = spawnSync(clang, ['-print-resource-dir'], { encoding: 'utf8' }).stdout.trim();
  const libFuzzer = join(resourceDir, 'lib', 'linux', 'libclang_rt.fuzzer_no_main-x86_64.a');
  if (!existsSync(libFuzzer)) fail(`${libFuzzer} not found (it comes with clang's compiler-rt)`);
  // The installed Node headers, as packages/backend-native does: nothing to download.
  const include = join(dirname(process.execPath), '..', 'include', 'node');
  if (!existsSync(join(include, 'node_api.h'))) fail(`${include}/node_api.h not found (Node's headers)`);
  mkdirSync(build, { recursive: true });
  const cmd = [
    '-std=c++17', '-O2', '-fPIC', '-shared', '-DNODE_GYP_MODULE_NAME=libfuzzer_driver', `-I${include}`, source,
    libFuzzer, '-lpthread', '-o', addon,
  ];
  console.log(`fuzz-js: building ${relative(process.cwd(), addon)}`);
  const r = spawnSync(clang, cmd, { stdio: 'inherit' });
  if (r.status !== 0) fail('building the libFuzzer driver failed');
}

function fail(message) {
  console.error(`fuzz-js: ${message}`);
  process.exit(2);
}
