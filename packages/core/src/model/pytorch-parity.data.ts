import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tfjsWasmBackend } from '../backends/tfjs-backends.js';
import { bertProvider } from '../encoders/bert-provider.js';
import { xlmRobertaProvider } from '../encoders/xlm-roberta-provider.js';
import { writeSafetensors, openCheckpoint } from '@xlt/plugin-api';
import { sharedPath, tempDir } from '@xlt/plugin-api/testing';
import { loadTokenizer } from '../tokenizer/load-tokenizer.js';
import { loadPretrained } from './load-pretrained.js';

/**
 * A real checkpoint (shared/models/tiny-multilingual-bert, a BertForMaskedLM folder with a tied MLM decoder) read
 * by xlt and by the PyTorch reference modules of test-python/hf_reference.py: the same last_hidden_state.
 */
describe('tiny-multilingual-bert against PyTorch', () => {
  it('loads the BertForMaskedLM folder (ignoring cls.*) and matches last_hidden_state within 1e-4 on wasm', async () => {
    const folder = sharedPath('models', 'tiny-multilingual-bert');
    const model = await loadPretrained(folder, { providers: [bertProvider, xlmRobertaProvider] });
    expect(model.ignored.length).toBeGreaterThan(0);
    expect(model.ignored.every((n) => n.startsWith('cls.'))).toBe(true);
    const tokenizer = await loadTokenizer(folder);
    const texts = ['Der schnelle braune Fuchs springt.', 'Zero-shot transfer across languages works surprisingly well, sometimes.', '東京は日本の首都です。'];
    const enc = await Promise.all(texts.map(async (t) => (await tokenizer.encode(t))[0]!));
    const B = enc.length;
    const T = Math.max(...enc.map((e) => e.ids.length));
    const inputIds = new Int32Array(B * T);
    const attentionMask = new Int32Array(B * T);
    const tokenTypeIds = new Int32Array(B * T);
    const positionIds = new Int32Array(B * T);
    enc.forEach((e, r) => {
      inputIds.set(e.ids, r * T);
      attentionMask.fill(1, r * T, r * T + e.ids.length);
      positionIds.set(bertProvider.positionIds(Array.from(inputIds.subarray(r * T, (r + 1) * T))), r * T);
    });
    const { dir, cleanup } = await tempDir('xlt-parity-data-');
    try {
      const inputs = join(dir, 'inputs.safetensors');
      await writeSafetensors(inputs, [
        { name: 'input_ids', dtype: 'I32', shape: [B, T], data: inputIds },
        { name: 'attention_mask', dtype: 'I32', shape: [B, T], data: attentionMask },
        { name: 'token_type_ids', dtype: 'I32', shape: [B, T], data: tokenTypeIds },
      ]);
      const out = join(dir, 'out.safetensors');
      const script = resolve(import.meta.dirname, '../../test-python/hf_reference.py');
      const run = spawnSync('/usr/bin/python3', [script, '--forward', folder, inputs, out], { encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`${script} failed (needs /usr/bin/python3 with torch; .ci/run installs python3-torch):\n${run.stderr}`);
      const ref = await openCheckpoint(out);
      const expected = await ref.readFloat32('last_hidden_state');
      await ref.close();
      const runtime = await tfjsWasmBackend.createEncoder(model.config, model.provider, model.encoder);
      const hidden = await runtime.forward({ batchSize: B, sequenceLength: T, inputIds, tokenTypeIds, attentionMask, positionIds }, { training: false });
      let err = 0;
      for (let i = 0; i < hidden.length; i++) err = Math.max(err, Math.abs(hidden[i]! - expected[i]!));
      expect(err).toBeLessThan(1e-4);
    } finally {
      await cleanup();
    }
  });
});
