import { describe, expect, test } from 'vitest';
import { dropoutMask, type NamedTensors } from '@xlt/plugin-api';
import { loadAddon, type NativeAddon } from './addon.js';
import { NativeBackend } from './native-backend.js';
import { randomParameters, seededRandom, tinyBatch, tinyConfig, tinyProvider } from './testing/tiny-models.js';

function requireAddon(): NativeAddon {
  const load = loadAddon();
  if (!load.addon) throw new Error(`${load.reason}. Build it with \`npm run build:addon -w @xlt/backend-native\` (needs g++ and libopenblas-dev).`);
  return load.addon;
}

describe('native dropout', () => {
  test('the C++ port of the dropout rule gives bitwise the masks of the TypeScript rule (@xlt/plugin-api dropoutMask)', () => {
    const addon = requireAddon();
    let compared = 0;
    // Seeds below and above 2^32, sites of several layers, rates whose float32 and float64 thresholds differ (0.1).
    for (const seed of [0, 1, 42, 4294967295, 2 ** 32, 2 ** 33 + 77, 2 ** 52 + 9]) {
      for (const site of [0, 1, 2, 3, 37]) {
        for (const rate of [0, 0.1, 0.25, 0.5, 0.9]) {
          const native = new Float32Array(4099);
          addon.dropoutMask(seed, site, rate, native);
          const ts = dropoutMask(seed, site, native.length, rate);
          expect(Buffer.from(native.buffer).equals(Buffer.from(ts.buffer)), `seed ${seed} site ${site} rate ${rate}`).toBe(true);
          compared += native.length;
        }
      }
    }
    expect(compared).toBe(7 * 5 * 5 * 4099);
    expect(() => addon.dropoutMask(-1, 0, 0.1, new Float32Array(1))).toThrow('seed');
    expect(() => addon.dropoutMask(1, 0, 1, new Float32Array(1))).toThrow('rate');
  });

  test('the encoder applies that rule: with no layers the training output is the eval output times dropoutMask(seed, 0)', async () => {
    requireAddon();
    const p = 0.1;
    const config = tinyConfig('bert', { layers: 0, dropout: p });
    const provider = tinyProvider('bert');
    const runtime = await new NativeBackend().createEncoder(config, provider, randomParameters(config, provider, 1));
    const batch = tinyBatch(config, provider, seededRandom(2), [16, 16, 16, 16, 16, 16, 16, 16], 16);
    const plain = await runtime.forward(batch, { training: false });
    const seed = 2 ** 33 + 5;
    const a = await runtime.forward(batch, { training: true, dropoutSeed: seed });
    const mask = dropoutMask(seed, 0, a.length, p);
    // Element-wise ===, so that a dropped negative value (-0 in JS) equals the addon's +0.
    const mismatches = [...a].filter((x, i) => x !== Math.fround(plain[i]! * mask[i]!)).length;
    expect(mismatches).toBe(0);
    expect(mask.filter((x) => x === 0).length).toBeGreaterThan(0);
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
