import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tfjsCpuBackend, tfjsWasmBackend } from '../backends/tfjs-backends.js';
import { bertProvider } from '../encoders/bert-provider.js';
import { isNoDecayParameter } from '../encoders/parameter-shapes.js';
import { xlmRobertaProvider } from '../encoders/xlm-roberta-provider.js';
import type { EncodedBatch, TrainingBackend } from '../plugins/backend.js';
import { openCheckpoint, type SafetensorsCheckpoint } from '../safetensors/checkpoint.js';
import { tempDir } from '../testing/fixtures.js';
import { loadPretrained } from './load-pretrained.js';
import type { PretrainedModel } from './pretrained-model.js';
import { ints, maxAbs, maxAbsDiff, referenceBatch } from './torch-reference.testing.js';

/**
 * The Done-when of issue #3: xlt's encoder agrees with PyTorch. `test-python/hf_reference.py` mirrors HF's
 * BertModel / XLMRobertaModel, builds small random models, saves them as HF folders and writes the reference
 * outputs (float64 math): last_hidden_state, gradients of sum(hidden * R) for a fixed random R, and two
 * torch.optim.AdamW steps. The test needs /usr/bin/python3 with torch and numpy (Debian python3-torch, which
 * `.ci/run` installs) and fails, never skips, without them.
 */
const PYTHON = '/usr/bin/python3';
const SCRIPT = resolve(import.meta.dirname, '../../test-python/hf_reference.py');
const providers = [bertProvider, xlmRobertaProvider];

interface Case {
  readonly label: string;
  readonly args: string[];
  model?: PretrainedModel;
  reference?: SafetensorsCheckpoint;
}
const cases: Case[] = [
  { label: 'BERT saved as BertModel (no prefix)', args: ['--model-type', 'bert', '--no-prefix', '--seed', '3'] },
  { label: 'XLM-R saved with roberta. prefix and an MLM head', args: ['--model-type', 'xlm-roberta', '--with-mlm-head', '--seed', '4'] },
];

let cleanup: () => Promise<void> = async () => {};

beforeAll(async () => {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `The PyTorch parity test needs ${PYTHON} with torch and numpy (Debian: apt-get install python3-torch; .ci/run installs it).\n` +
        `${PYTHON} -c 'import torch, numpy' said: ${(probe.stderr || probe.error?.message || '').trim()}`,
    );
  }
  const tmp = await tempDir('xlt-parity-');
  cleanup = tmp.cleanup;
  await Promise.all(
    cases.map(async (c, i) => {
      const out = join(tmp.dir, String(i));
      const run = spawnSync(PYTHON, [SCRIPT, ...c.args, '--out', out], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
      if (run.status !== 0) throw new Error(`${SCRIPT} failed (${run.status}):\n${run.stderr}`);
      c.model = await loadPretrained(join(out, 'model'), { providers });
      c.reference = await openCheckpoint(join(out, 'reference.safetensors'));
    }),
  );
}, 60_000);

afterAll(async () => {
  for (const c of cases) await c.reference?.close();
  await cleanup();
});

function batchOf(c: Case): Promise<EncodedBatch> {
  return referenceBatch(c.model!, c.reference!);
}

/** A fresh copy of the loaded weights, so every backend starts from the same values. */
function copyWeights(model: PretrainedModel) {
  return new Map([...model.encoder].map(([n, t]) => [n, { shape: t.shape, data: t.data.slice() }]));
}

describe.each(cases)('PyTorch parity: $label', (c) => {
  it('loads the folder by HF names, keeping the pooler and ignoring only the MLM head', () => {
    const m = c.model!;
    expect(m.encoder.size).toBe(m.provider.parameterShapes(m.config).size);
    expect([...m.pooler.keys()]).toEqual([`${m.provider.parameterPrefix}pooler.dense.weight`, `${m.provider.parameterPrefix}pooler.dense.bias`]);
    expect(m.ignored).toEqual(c.args.includes('--with-mlm-head') ? ['lm_head.weight', 'lm_head.bias'] : []);
    expect(m.config.raw['a_field_xlt_does_not_use']).toEqual({ kept: true });
  });

  it('computes the position ids HF computes (RoBERTa: padding offset)', async () => {
    const batch = await batchOf(c);
    expect(Array.from(batch.positionIds)).toEqual(Array.from(await ints(c.reference!, 'position_ids')));
  });

  describe.each([tfjsCpuBackend, tfjsWasmBackend] as TrainingBackend[])('on $id', (backend) => {
    it('matches last_hidden_state within 1e-4', async () => {
      expect((await backend.probe()).available).toBe(true);
      const runtime = await backend.createEncoder(c.model!.config, c.model!.provider, copyWeights(c.model!));
      const hidden = await runtime.forward(await batchOf(c), { training: false });
      const expected = await c.reference!.readFloat32('last_hidden_state');
      expect(maxAbs(expected)).toBeGreaterThan(0.5);
      expect(maxAbsDiff(hidden, expected)).toBeLessThan(1e-4);
      runtime.dispose();
    });

    it('matches the gradient of every parameter within 1e-5 relative', async () => {
      const runtime = await backend.createEncoder(c.model!.config, c.model!.provider, copyWeights(c.model!));
      const batch = await batchOf(c);
      await runtime.forward(batch, { training: true, dropoutSeed: 7 });
      await runtime.backward(await c.reference!.readFloat32('d_hidden'));
      const grads = runtime.gradients();
      expect(grads.size).toBe(c.model!.encoder.size);
      const failures: string[] = [];
      for (const [name, g] of grads) {
        const expected = await c.reference!.readFloat32(`grad.${name}`);
        // Relative to the tensor's largest gradient. The key bias has a mathematically zero gradient (softmax
        // ignores a constant shift per query; torch finds ~1e-15), so its scale is floored at 0.1, against
        // gradients of order 1 to 20 elsewhere.
        const scale = Math.max(maxAbs(expected), 0.1);
        const err = maxAbsDiff(g.data, expected) / scale;
        if (!(err <= 1e-5)) failures.push(`${name}: relative error ${err.toExponential(2)} (max |grad| ${maxAbs(expected).toExponential(2)})`);
      }
      expect(failures).toEqual([]);
      runtime.dispose();
    });

    it('matches two torch.optim.AdamW steps (weight decay, no-decay group, bias correction)', async () => {
      const runtime = await backend.createEncoder(c.model!.config, c.model!.provider, copyWeights(c.model!));
      const names = [...runtime.parameters().keys()];
      const noDecay = new Set(names.filter(isNoDecayParameter));
      for (const [step, factor] of [[1, 1], [2, -0.3]] as const) {
        for (const [name, g] of runtime.gradients()) {
          const torchGrad = await c.reference!.readFloat32(`grad.${name}`);
          for (let i = 0; i < g.data.length; i++) g.data[i] = Math.fround(torchGrad[i]! * factor);
        }
        runtime.adamw({ learningRate: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, step, noDecay });
      }
      const failures: string[] = [];
      const { m, v } = runtime.optimizerState();
      for (const [name, p] of runtime.parameters()) {
        for (const [what, mine] of [['adamw', p.data], ['adamw_m', m.get(name)!.data], ['adamw_v', v.get(name)!.data]] as const) {
          const expected = await c.reference!.readFloat32(`${what}.${name}`);
          const err = maxAbsDiff(mine, expected);
          if (!(err <= 1e-6 * Math.max(1, maxAbs(expected)))) failures.push(`${what} ${name}: max abs error ${err.toExponential(2)}`);
        }
      }
      expect(failures).toEqual([]);
      // The forward after the update runs on the new weights, not on a stale upload.
      const before = await (await backend.createEncoder(c.model!.config, c.model!.provider, copyWeights(c.model!))).forward(await batchOf(c), { training: false });
      const after = await runtime.forward(await batchOf(c), { training: false });
      expect(maxAbsDiff(before, after)).toBeGreaterThan(1e-3);
      runtime.dispose();
    });
  });
});
