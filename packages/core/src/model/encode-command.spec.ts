import { writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildProgram } from '../cli/program.js';
import { createEngine, openCheckpoint } from '@xlt/plugin-api';
import { bertProvider } from '../encoders/bert-provider.js';
import { tempDir } from '@xlt/plugin-api/testing';
import { writeTinyWordPieceTokenizer } from '../tokenizer/tiny-tokenizers.js';
import { tokenizerModule } from '../tokenizer/tokenizer-module.js';
import { initEncoderParameters } from './init-parameters.js';
import { loadPretrained } from './load-pretrained.js';
import { modelModule } from './model-module.js';
import { savePretrained } from './save-pretrained.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('xlt-encode-')));
afterEach(() => cleanup());

async function tinyModel(): Promise<string> {
  const tok = await writeTinyWordPieceTokenizer(join(dir, 'tok'));
  const config = bertProvider.parseConfig(
    { model_type: 'bert', vocab_size: 35, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, max_position_embeddings: 32, initializer_range: 0.5 },
    'config.json',
  );
  const folder = join(dir, 'model');
  await savePretrained(folder, { config, tensors: initEncoderParameters(config, bertProvider, 2), tokenizerFiles: [join(tok, 'vocab.txt'), join(tok, 'tokenizer_config.json')] });
  return folder;
}

describe('xlt encode', () => {
  it('writes input_ids, attention_mask and last_hidden_state padded to the longest line, as the runtime computes them', async () => {
    const model = await tinyModel();
    const input = join(dir, 'in.txt');
    await writeFile(input, 'hello world\nthe cat sat on the mat .\n');
    const out = join(dir, 'out.safetensors');
    const engine = await createEngine([modelModule, tokenizerModule]);
    await buildProgram(engine).parseAsync(['encode', '--model', model, '--input', input, '--out', out, '--backend', 'tfjs-cpu'], { from: 'user' });
    const ckpt = await openCheckpoint(out);
    try {
      expect(ckpt.tensors.get('input_ids')!.shape).toEqual([2, 9]);
      expect(ckpt.tensors.get('attention_mask')!.dtype).toBe('I32');
      expect(ckpt.tensors.get('last_hidden_state')!.shape).toEqual([2, 9, 8]);
      const bytes = await ckpt.readBytes('input_ids');
      const ids = Array.from(new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)));
      // [CLS]=2 hello world [SEP]=3, then [PAD]=0.
      expect(ids.slice(0, 9)).toEqual([2, 5, 6, 3, 0, 0, 0, 0, 0]);
      const maskBytes = await ckpt.readBytes('attention_mask');
      expect(Array.from(new Int32Array(maskBytes.buffer.slice(maskBytes.byteOffset, maskBytes.byteOffset + maskBytes.byteLength))).slice(0, 9)).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 0]);
      // Row 0 encoded alone (no padding) gives the same real-token states.
      const loaded = await loadPretrained(model, { engine });
      const runtime = await engine.backends.get('tfjs-cpu').createEncoder(loaded.config, loaded.provider, loaded.encoder);
      const alone = await runtime.forward(
        { batchSize: 1, sequenceLength: 4, inputIds: new Int32Array([2, 5, 6, 3]), tokenTypeIds: new Int32Array(4), attentionMask: new Int32Array([1, 1, 1, 1]), positionIds: new Int32Array([0, 1, 2, 3]) },
        { training: false },
      );
      const hidden = await ckpt.readFloat32('last_hidden_state');
      for (let i = 0; i < 32; i++) expect(hidden[i]).toBeCloseTo(alone[i]!, 5);
    } finally {
      await ckpt.close();
    }
  });

  it('fails clearly on a bad --max-length and an empty input, writing nothing', async () => {
    const model = await tinyModel();
    const engine = await createEngine([modelModule, tokenizerModule]);
    const input = join(dir, 'in.txt');
    const out = join(dir, 'out.safetensors');
    await writeFile(input, 'hello\n');
    const run = (args: string[]) => buildProgram(engine).parseAsync(['encode', '--model', model, '--input', input, '--out', out, ...args], { from: 'user' });
    await expect(run(['--max-length', '64'])).rejects.toThrow("--max-length must be an integer from 2 to 32 (this model's limit), found 64.");
    await writeFile(input, '');
    await expect(run([])).rejects.toThrow(`${input}: expected at least one line of text, found an empty file`);
    expect(existsSync(out)).toBe(false);
  });
});
