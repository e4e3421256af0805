import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Container } from 'inversify';
import { describe, expect, test } from 'vitest';
import { TrainingBackend, XltError } from '@xlt/plugin-api';
import { selectBackend } from '@xlt/core';
import { cudaAddonPath, emulatedCudaAddonPath } from './cuda-addon.js';
import { CudaBackend } from './cuda-backend.js';
import { fatbinEntries } from './cuda-fatbin.js';
import { nativeModule } from './index.js';
import { randomParameters, seededRandom, tinyBatch, tinyConfig, tinyProvider } from './testing/tiny-models.js';

const nvcc = ['/usr/local/cuda/bin/nvcc', process.env['XLT_NVCC']].some((p) => p && existsSync(p)) || spawnSync('sh', ['-c', 'command -v nvcc']).status === 0;
const machineHasGpu = existsSync('/dev/nvidia0');

describe('cuda backend plugin', () => {
  test('is bound next to native with id cuda and priority 110, above every other backend', async () => {
    const container = new Container();
    await container.load(nativeModule);
    const backends = container.getAll<TrainingBackend>(TrainingBackend);
    const cuda = backends.find((b) => b.id === 'cuda');
    expect(cuda?.priority).toBe(110);
    expect(cuda?.deterministic).toBe(true);
    expect(Math.max(...backends.filter((b) => b.id !== 'cuda').map((b) => b.priority))).toBeLessThan(110);
  });

  // Each branch asserts what this machine must show: CI machines have nvcc and no GPU; the device check covers GPUs.
  test(`the GPU build: ${nvcc ? 'nvcc exists, so it holds sm_80 and sm_90 machine code and sm_90 PTX' : 'nvcc is missing, and the probe says so'}`, async () => {
    if (!nvcc) {
      expect(await new CudaBackend().probe()).toEqual({ available: false, detail: expect.stringMatching(/^CUDA addon not built: nvcc not found/) });
      return;
    }
    const path = cudaAddonPath();
    const failure = join(dirname(path), 'build-failure.txt');
    expect(existsSync(failure) ? readFileSync(failure, 'utf8') : 'built', 'the CUDA addon build failed').toBe('built');
    const entries = fatbinEntries(readFileSync(path)).map((e) => `${e.kind} ${e.arch}`);
    expect(new Set(entries)).toEqual(new Set(['cubin sm_80', 'cubin sm_90', 'ptx sm_90']));
  });

  test(`the probe of the GPU build ${machineHasGpu ? 'finds the GPU' : 'says no GPU is visible, and auto picks another backend'}`, async () => {
    const probe = await new CudaBackend().probe();
    if (machineHasGpu && nvcc) {
      expect(probe.available, probe.detail).toBe(true);
      return;
    }
    expect(probe.available).toBe(false);
    expect(probe.detail).toMatch(nvcc ? /^no GPU visible: / : /^CUDA addon not built: /);
    const config = tinyConfig('bert');
    await expect(new CudaBackend().createEncoder(config, tinyProvider('bert'), randomParameters(config, tinyProvider('bert'), 1))).rejects.toThrow(/backend 'cuda' is unavailable: /);
    const container = new Container();
    await container.load(nativeModule);
    const choice = await selectBackend(container.getAll<TrainingBackend>(TrainingBackend));
    expect(choice.backend.id).toBe('native');
    expect(choice.line).toMatch(/unavailable: cuda \((no GPU visible|CUDA addon not built): /);
  });

  test('backend auto prefers cuda when its probe finds a GPU (here the emulated build stands in for one)', async () => {
    const container = new Container();
    await container.load(nativeModule);
    const others = container.getAll<TrainingBackend>(TrainingBackend).filter((b) => b.id !== 'cuda');
    const choice = await selectBackend([...others, new CudaBackend({ addonPath: emulatedCudaAddonPath(), precision: 'bf16' })]);
    expect(choice.backend.id).toBe('cuda');
    expect(choice.line).toMatch(/^backend: cuda \(CPU emulation of the CUDA kernels .*, bf16\)$/);
  });

  test('a missing addon file is reported with the path, and XLT_CUDA_PRECISION is checked', async () => {
    const probe = await new CudaBackend({ addonPath: '/nonexistent/xlt_cuda.node' }).probe();
    expect(probe).toEqual({ available: false, detail: expect.stringMatching(/^CUDA addon not built: \/nonexistent\/xlt_cuda.node does not exist/) });
    process.env['XLT_CUDA_PRECISION'] = 'fp16';
    try {
      await expect(new CudaBackend({ addonPath: emulatedCudaAddonPath() }).probe()).rejects.toThrow(/XLT_CUDA_PRECISION: expected one of fp32, tf32, bf16, found 'fp16'/);
    } finally {
      delete process.env['XLT_CUDA_PRECISION'];
    }
  });

  test('bad batches, bad checkpoints and use after dispose get clear errors (emulated build)', async () => {
    const backend = new CudaBackend({ addonPath: emulatedCudaAddonPath(), precision: 'fp32' });
    const provider = tinyProvider('bert');
    const config = tinyConfig('bert');
    await expect(backend.createEncoder({ ...config, hiddenAct: 'relu' }, provider, randomParameters(config, provider, 1))).rejects.toThrow(/hidden_act "gelu".*found "relu"/);
    const params = randomParameters(config, provider, 1);
    const runtime = await backend.createEncoder(config, provider, params);
    const batch = tinyBatch(config, provider, seededRandom(1), [4, 2], 4);
    const bad = { ...batch, inputIds: batch.inputIds.map((id, i) => (i === 5 ? config.vocabSize : id)) };
    await expect(runtime.forward(bad, { training: false })).rejects.toThrow(XltError);
    await expect(runtime.forward(bad, { training: false })).rejects.toThrow(/inputIds\[5\] = 40 is outside the vocabulary \[0, 40\)/);
    await expect(runtime.backward(new Float32Array(3))).rejects.toThrow(/training: true/);
    // A checkpoint with one wrong shape changes nothing on the GPU.
    const before = runtime.parameters();
    const name = [...params.keys()][3]!;
    const broken = new Map(params);
    broken.set(name, { shape: [1], data: new Float32Array(1) });
    expect(() => runtime.load(broken)).toThrow(new RegExp(`cuda backend: parameters '${name.replace(/\./g, '\\.')}' has shape \\[1\\]`));
    for (const [n, t] of runtime.parameters()) expect(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(Buffer.from(before.get(n)!.data.buffer, before.get(n)!.data.byteOffset, before.get(n)!.data.byteLength)), n).toBe(true);
    runtime.dispose();
    expect(() => runtime.parameters()).toThrow(/after dispose/);
  });
});
