import { describe, expect, test } from 'vitest';
import type { NamedTensors } from '@xlt/core';
import { loadAddon } from './addon.js';
import { NativeBackend } from './native-backend.js';
import { randomParameters, seededRandom, tinyBatch, tinyConfig, tinyProvider } from './testing/tiny-models.js';

function requireAddon(): void {
  const load = loadAddon();
  if (!load.addon) throw new Error(`${load.reason}. Build it with \`npm run build:addon -w @xlt/backend-native\` (needs g++ and libopenblas-dev).`);
}

describe('native dropout', () => {
  test('is a pure function of the seed, at the configured rate, scaled by 1/(1-p)', async () => {
    requireAddon();
    const p = 0.25;
    const config = tinyConfig('bert', { layers: 0, dropout: p });
    const provider = tinyProvider('bert');
    const runtime = await new NativeBackend().createEncoder(config, provider, randomParameters(config, provider, 1));
    const batch = tinyBatch(config, provider, seededRandom(2), [16, 16, 16, 16, 16, 16, 16, 16], 16);
    const plain = await runtime.forward(batch, { training: false });
    const a = await runtime.forward(batch, { training: true, dropoutSeed: 1 });
    const b = await runtime.forward(batch, { training: true, dropoutSeed: 1 });
    const c = await runtime.forward(batch, { training: true, dropoutSeed: 2 });
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
    let dropped = 0, worst = 0;
    for (let i = 0; i < a.length; i++) {
      if (a[i] === 0) dropped++;
      else worst = Math.max(worst, Math.abs(a[i]! - plain[i]! / (1 - p)) / Math.abs(plain[i]! / (1 - p)));
    }
    // 4096 draws: the fraction's standard deviation is 0.0068, so 0.03 is over 4 sigma.
    expect(Math.abs(dropped / a.length - p)).toBeLessThan(0.03);
    expect(worst).toBeLessThan(1e-6);
    runtime.dispose();
  });

  test('backward replays the forward masks: gradients match a finite difference, and are bitwise repeatable', async () => {
    requireAddon();
    const config = tinyConfig('xlm-roberta', { dropout: 0.2 });
    const provider = tinyProvider('xlm-roberta');
    const params = randomParameters(config, provider, 4);
    const runtime = await new NativeBackend().createEncoder(config, provider, params);
    const rand = seededRandom(9);
    const batch = tinyBatch(config, provider, rand, [9, 7, 4], 9);
    const R = Float32Array.from({ length: 3 * 9 * config.hiddenSize }, () => rand() * 2 - 1);
    const f = async () => (await runtime.forward(batch, { training: true, dropoutSeed: 42 })).reduce((s, h, i) => s + h * R[i]!, 0);
    await f();
    await runtime.backward(R);
    const grads = new Map([...runtime.gradients()].map(([n, t]) => [n, t.data.slice()]));
    runtime.zeroGradients();
    await f();
    await runtime.backward(R);
    for (const [n, t] of runtime.gradients()) expect(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(Buffer.from(grads.get(n)!.buffer)), n).toBe(true);
    // Directional derivative along a random sign vector u: (f(θ+εu) - f(θ-εu)) / 2ε against g·u.
    const u = new Map([...params].map(([n, t]) => [n, Float32Array.from(t.data, () => (rand() < 0.5 ? -1 : 1))]));
    // nn.Embedding(padding_idx) rows feed the output but get no gradient (HF semantics): keep them fixed.
    const H = config.hiddenSize, pad = config.padTokenId;
    u.get('roberta.embeddings.word_embeddings.weight')!.fill(0, pad * H, (pad + 1) * H);
    u.get('roberta.embeddings.position_embeddings.weight')!.fill(0, pad * H, (pad + 1) * H);
    let gu = 0;
    for (const [n, g] of grads) g.forEach((x, i) => (gu += x * u.get(n)![i]!));
    const eps = 1e-3;
    const shifted = (sign: number): NamedTensors => new Map([...params].map(([n, t]) => [n, { shape: t.shape, data: t.data.map((x, i) => x + sign * eps * u.get(n)![i]!) }]));
    runtime.load(shifted(1));
    const fPlus = await f();
    runtime.load(shifted(-1));
    const fMinus = await f();
    expect(Math.abs((fPlus - fMinus) / (2 * eps) - gu) / Math.abs(gu)).toBeLessThan(1e-2);
    runtime.dispose();
  });
});
