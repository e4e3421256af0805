import { Container } from 'inversify';
import { describe, expect, test, vi } from 'vitest';
import { TrainingBackend, XltError } from '@xlt/plugin-api';
import { nativeModule } from './index.js';
import { NativeBackend } from './native-backend.js';
import { randomParameters, seededRandom, tinyBatch, tinyConfig, tinyProvider } from './testing/tiny-models.js';

describe('native backend plugin', () => {
  test('is bound to TrainingBackend with id native and priority 40, and its probe finds the built addon', async () => {
    const container = new Container();
    await container.load(nativeModule);
    const backends = container.getAll<TrainingBackend>(TrainingBackend);
    const native = backends.find((b) => b.id === 'native');
    expect(native?.priority).toBe(40);
    expect(native?.deterministic).toBe(true);
    const probe = await native!.probe();
    expect(probe.detail).not.toMatch(/not built/);
    expect(probe.available).toBe(true);
  });

  test('reports "native addon not built" with the reason when the addon file is missing', async () => {
    vi.resetModules();
    process.env['XLT_NATIVE_ADDON'] = '/nonexistent/xlt_native.node';
    try {
      const fresh = await import('./native-backend.js');
      const probe = await new fresh.NativeBackend().probe();
      expect(probe.available).toBe(false);
      expect(probe.detail).toMatch(/^native addon not built: /);
    } finally {
      delete process.env['XLT_NATIVE_ADDON'];
      vi.resetModules();
    }
  });

  test('rejects activations other than exact gelu, and token ids outside the vocabulary, with clear errors', async () => {
    const provider = tinyProvider('bert');
    const config = tinyConfig('bert');
    await expect(new NativeBackend().createEncoder({ ...config, hiddenAct: 'relu' }, provider, randomParameters(config, provider, 1))).rejects.toThrow(/hidden_act "gelu".*found "relu"/);
    const runtime = await new NativeBackend().createEncoder(config, provider, randomParameters(config, provider, 1));
    const batch = tinyBatch(config, provider, seededRandom(1), [4, 2], 4);
    const bad = { ...batch, inputIds: batch.inputIds.map((id, i) => (i === 5 ? config.vocabSize : id)) };
    await expect(runtime.forward(bad, { training: false })).rejects.toThrow(XltError);
    await expect(runtime.forward(bad, { training: false })).rejects.toThrow(/inputIds\[5\] = 40 is outside the vocabulary \[0, 40\)/);
    await expect(runtime.backward(new Float32Array(3))).rejects.toThrow(/training: true/);
    runtime.dispose();
    expect(() => runtime.parameters()).toThrow(/after dispose/);
  });
});
