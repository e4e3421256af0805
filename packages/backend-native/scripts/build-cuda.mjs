#!/usr/bin/env node
// Builds the CUDA backend's two addons:
// - build-cuda/gpu/xlt_cuda.node: the GPU build. nvcc compiles the kernels (native/cuda/ops.cu) for sm_80 and sm_90
//   (with sm_90 PTX for later GPUs); g++ compiles the host side against the CUDA runtime headers and links the static
//   runtime, so the addon needs only the driver at run time. cuBLAS is loaded at run time (native/cuda/blas.cc).
//   Needs nvcc (CUDA 12 or 13), not a GPU: CI builds it on machines without one.
// - build-cuda/emulated/xlt_cuda.node: the same sources compiled by g++ over native/cuda/emulation.h, which runs
//   the kernels on the CPU. Tests use it to check the CUDA backend's logic against PyTorch where no GPU exists.
// Like the CPU addon this is optional: a failed build records its reason in build-failure.txt next to where the
// addon would be, prints one warning and exits 0 (`--strict` exits 1).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const strict = process.argv.includes('--strict');
const only = process.argv.includes('--emulated-only') ? 'emulated' : process.argv.includes('--gpu-only') ? 'gpu' : null;
const native = join(root, 'native');
const cuda = join(native, 'cuda');
const hostSources = [join(native, 'entry-checks.cc'), join(cuda, 'blas.cc'), join(cuda, 'encoder.cc'), join(cuda, 'addon.cc')];
/** The GPU architectures compiled into the addon: Ampere (A100) and Hopper (H100/H200) cubins, plus Hopper PTX. */
export const CUDA_ARCHITECTURES = ['sm_80', 'sm_90'];

function nodeInclude() {
  for (const dir of [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node']) {
    if (existsSync(join(dir, 'node_api.h'))) return dir;
  }
  return null;
}

function findNvcc() {
  const candidates = [process.env.XLT_NVCC, process.env.CUDA_HOME && join(process.env.CUDA_HOME, 'bin', 'nvcc'), '/usr/local/cuda/bin/nvcc'];
  for (const c of candidates) if (c && existsSync(c)) return c;
  const which = spawnSync('sh', ['-c', 'command -v nvcc'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : null;
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status === 0) return null;
  const text = `${r.stdout ?? ''}\n${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}`;
  const lines = text.split('\n').filter((l) => /error|not found|No such file|undefined/i.test(l));
  return `${cmd} ${args.slice(-3).join(' ')}: ${(lines.slice(0, 3).join(' | ') || `exit ${r.status}`).trim()}`;
}

const common = ['-std=c++17', '-O2', '-fPIC', '-DNAPI_VERSION=8', '-DNODE_GYP_MODULE_NAME=xlt_cuda'];

function buildGpu(out, include) {
  const nvcc = findNvcc();
  if (!nvcc) return 'nvcc not found (install the CUDA toolkit, or set XLT_NVCC)';
  const cudaHome = join(dirname(nvcc), '..');
  const objects = join(out, 'obj');
  mkdirSync(objects, { recursive: true });
  const gencode = CUDA_ARCHITECTURES.flatMap((a) => ['-gencode', `arch=compute_${a.slice(3)},code=${a}`]);
  gencode.push('-gencode', `arch=compute_${CUDA_ARCHITECTURES.at(-1).slice(3)},code=compute_${CUDA_ARCHITECTURES.at(-1).slice(3)}`);
  const ops = join(objects, 'ops.o');
  const failed = run(nvcc, ['-c', join(cuda, 'ops.cu'), '-o', ops, '-std=c++17', '-O3', '-Xcompiler', '-fPIC', ...gencode]);
  if (failed) return failed;
  const objs = [ops];
  for (const src of hostSources) {
    const obj = join(objects, src.split('/').pop().replace(/\.cc$/, '.o'));
    const f = run('g++', ['-c', src, '-o', obj, ...common, `-I${include}`, `-I${join(cudaHome, 'include')}`]);
    if (f) return f;
    objs.push(obj);
  }
  const lib = [join(cudaHome, 'lib64'), join(cudaHome, 'lib')].find((d) => existsSync(join(d, 'libcudart_static.a')));
  if (!lib) return `libcudart_static.a not found under ${cudaHome}`;
  return run('g++', ['-shared', '-o', join(out, 'xlt_cuda.node'), ...objs, `-L${lib}`, '-l:libcudart_static.a', '-ldl', '-lpthread', '-lrt']);
}

function buildEmulated(out, include) {
  const sources = [...hostSources, join(cuda, 'emulation.cc')];
  return run('g++', ['-shared', '-o', join(out, 'xlt_cuda.node'), ...common, '-DXLT_CUDA_EMULATION', `-I${include}`, ...sources, '-x', 'c++', join(cuda, 'ops.cu')]);
}

let failures = 0;
for (const [name, dir, build] of [['gpu', 'gpu', buildGpu], ['emulated', 'emulated', buildEmulated]]) {
  if (only && only !== name) continue;
  const out = join(root, 'build-cuda', dir);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const include = nodeInclude();
  const reason = process.env.XLT_SKIP_NATIVE === '1' ? 'XLT_SKIP_NATIVE=1 is set' : include ? build(out, include) : 'Node headers (node_api.h) not found';
  if (reason) {
    failures++;
    writeFileSync(join(out, 'build-failure.txt'), `${reason}\n`);
    console.warn(`@xlt/backend-native: ${name} CUDA addon not built (${reason})`);
  }
  rmSync(join(out, 'obj'), { recursive: true, force: true });
}
process.exit(strict && failures ? 1 : 0);
