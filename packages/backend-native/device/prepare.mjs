#!/usr/bin/env node
// Prepares the CUDA device check on this machine (nvcc, the CPU addon and xz needed; no GPU), into device/dist/:
// - builds the GPU addon (build-cuda/gpu/xlt_cuda.node) and type-checks device/check.ts;
// - bundles device/check.ts with everything it imports into device/dist/check.mjs (the GPU machine has Node,
//   carried, but no node_modules);
// - trains the loss-curve reference on the CPU backend (device/dist/cpu-loss-curve.json);
// - packs this machine's node binary (device/dist/node.xz).
// Then the device tool runs device/run.sh with carry [packages/backend-native/build-cuda/gpu,
// packages/backend-native/device/dist] (see device/README.md).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
const dist = join(here, 'dist');

function step(what, cmd, args, options = {}) {
  console.log(`== ${what}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: pkg, ...options });
  if (r.status !== 0) {
    console.error(`device/prepare.mjs: ${what} failed (${cmd} exited with ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

mkdirSync(dist, { recursive: true });
// --no-build: the addon is built already (the test that runs this script, beside tests that load the addon).
if (!process.argv.includes('--no-build')) step('GPU addon (nvcc, sm_80 + sm_90)', process.execPath, ['scripts/build-cuda.mjs', '--strict', '--gpu-only']);
step('type-check device/check.ts', process.execPath, [join(pkg, '..', '..', 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'device/tsconfig.json']);
console.log('== bundle device/check.ts');
const { build } = await import('rolldown');
await build({
  input: join(here, 'check.ts'),
  platform: 'node',
  tsconfig: join(pkg, '..', '..', 'tsconfig.base.json'),
  resolve: { conditionNames: ['@xlt/source', 'import', 'node', 'default'] },
  output: { file: join(dist, 'check.mjs'), format: 'esm' },
  logLevel: 'warn',
});
step('CPU loss-curve reference (native backend)', process.execPath, [join(dist, 'check.mjs'), '--make-reference', join(dist, 'cpu-loss-curve.json')], {
  env: { ...process.env, XLT_NATIVE_ADDON: join(pkg, 'build', 'Release', 'xlt_native.node') },
});
// The packed node only changes with the node binary: --keep-node reuses it; --no-node skips it (a dry run here).
if (!process.argv.includes('--no-node') && !(process.argv.includes('--keep-node') && existsSync(join(dist, 'node.xz')))) {
  step('pack node', 'sh', ['-c', `xz -3 -T2 -c "${process.execPath}" > "${join(dist, 'node.xz')}.tmp" && mv "${join(dist, 'node.xz')}.tmp" "${join(dist, 'node.xz')}"`]);
}
let bytes = 0;
for (const dir of [dist, join(pkg, 'build-cuda', 'gpu')]) for (const f of existsSync(dir) ? readdirSync(dir) : []) bytes += statSync(join(dir, f)).size;
console.log(`ready: carry packages/backend-native/build-cuda/gpu and packages/backend-native/device/dist (${(bytes / 2 ** 20).toFixed(1)} MiB of the 64 MiB limit); run: bash packages/backend-native/device/run.sh`);
