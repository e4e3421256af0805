/**
 * Issue #9's check: a randomly initialised XLM-R-base-shaped model (12 layers, hidden 768, 12 heads, FFN 3072,
 * vocabulary 250,002) trains 10 steps at batch 8 x 128 on the CPU backend chosen automatically, its loss falls,
 * its checkpoints are saved, reloaded bit-identically and averaged. Heavy (about 5 GB of parameters, gradients and
 * AdamW moments, minutes of CPU): run it with `npm run test:base`, not part of `npm test`.
 */
import { join } from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { coreModule, initEncoderParameters, loadPretrained, selectBackend, train, xlmRobertaProvider } from '@xlt/core';
import {
  SafetensorsFile,
  createEngine,
  normalArray,
  seededRandom,
  type BatchTargets,
  type Feature,
  type TaskHead,
} from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { averagingModule, averageCheckpoints } from '@xlt/averaging';
import { nativeModule } from '@xlt/backend-native';

const LABELS = 9;
const SEQ = 128;

interface TokenFeature extends Feature {
  readonly labels: readonly number[];
}

/** A token-classification head in HF's layout (`classifier.*`), cross-entropy over every token. */
function tokenHead(hidden: number): TaskHead {
  return {
    parameters: { 'classifier.weight': [LABELS, hidden], 'classifier.bias': [LABELS] },
    init: (random) => ({ 'classifier.weight': normalArray(LABELS * hidden, 0.02, random), 'classifier.bias': new Float32Array(LABELS) }),
    forward: (tf: typeof tfjs, h: tfjs.Tensor3D, p: Readonly<Record<string, tfjs.Tensor>>) =>
      tf.tidy(() => {
        const [B, T, H] = h.shape;
        const flat = tf.matMul(tf.reshape(h, [B * T, H]) as tfjs.Tensor2D, tf.transpose(p['classifier.weight']!) as tfjs.Tensor2D);
        return tf.reshape(tf.add(flat, p['classifier.bias']!), [B, T, LABELS]);
      }),
    loss: (tf: typeof tfjs, logits: tfjs.Tensor, targets: BatchTargets) =>
      tf.tidy(() => {
        const flat = tf.reshape(logits, [-1, LABELS]) as tfjs.Tensor2D;
        const onehot = tf.oneHot(tf.tensor1d(targets.labels as Int32Array, 'int32'), LABELS);
        return tf.losses.softmaxCrossEntropy(onehot, flat) as tfjs.Scalar;
      }),
  };
}

describe('XLM-R-base on the CPU backend', () => {
  it('trains 10 steps at 8 x 128, loss falls, saves, reloads bit-identically and averages two checkpoints', async () => {
    const { dir, cleanup } = await tempDir('xlt-xlmr-base-');
    try {
      const engine = await createEngine([coreModule, nativeModule, averagingModule]);
      const choice = await selectBackend(engine.backends);
      process.stderr.write(`[xlmr-base] ${choice.line}\n`);
      const config = xlmRobertaProvider.parseConfig(
        {
          model_type: 'xlm-roberta', vocab_size: 250002, hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12,
          intermediate_size: 3072, hidden_act: 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1,
          max_position_embeddings: 514, type_vocab_size: 1, layer_norm_eps: 1e-5, pad_token_id: 1, bos_token_id: 0,
          eos_token_id: 2, initializer_range: 0.02, architectures: ['XLMRobertaForTokenClassification'],
        },
        'xlmr-base-config.json',
      );
      const runtime = await choice.backend.createEncoder(config, xlmRobertaProvider, initEncoderParameters(config, xlmRobertaProvider, 1));
      // 16 sequences seen 5 times: 2 batches of 8 per epoch, 10 optimizer steps; labels follow the token ids
      const random = seededRandom(3);
      const features: TokenFeature[] = Array.from({ length: 16 }, (_, i) => {
        const ids = [0, ...Array.from({ length: SEQ - 2 }, () => 5 + Math.floor(random() * 5000)), 2];
        return { exampleIndex: i, inputIds: ids, tokenTypeIds: ids.map(() => 0), labels: ids.map((id) => id % LABELS) };
      });
      const started = Date.now();
      const result = await train({
        runDir: join(dir, 'run'),
        runtime,
        provider: xlmRobertaProvider,
        task: { collate: (fs: readonly TokenFeature[], T: number) => ({ labels: Int32Array.from(fs.flatMap((f) => [...f.labels, ...new Array(T - f.labels.length).fill(0)])) }) },
        head: tokenHead(768),
        context: { labels: Array.from({ length: LABELS }, (_, i) => `L${i}`), maxLength: SEQ, options: {} },
        features,
        options: { learningRate: 1e-4, batchSize: 8, epochs: 5, seed: 1, warmupSteps: 0, schedule: 'constant', checkpointEverySteps: 5, progressEverySeconds: 10 },
      });
      const seconds = (Date.now() - started) / 1000;
      expect(result.totalSteps).toBe(10);
      expect(result.checkpoints.map((c) => c.step)).toEqual([5, 10]);
      const [first, last] = result.checkpoints as [typeof result.checkpoints[0], typeof result.checkpoints[0]];
      const lossAt = async (path: string) => {
        const file = await SafetensorsFile.open(join(path, 'model.safetensors'));
        const loss = Number(file.metadata.train_loss);
        await file.close();
        return loss;
      };
      const loss5 = await lossAt(first.path);
      const loss10 = await lossAt(last.path);
      process.stderr.write(`[xlmr-base] 10 steps in ${seconds.toFixed(1)} s (${(seconds / 10).toFixed(2)} s/step incl. 2 checkpoints); train loss steps 1-5 ${loss5.toFixed(4)}, 6-10 ${loss10.toFixed(4)}\n`);
      expect(loss10).toBeLessThan(loss5);

      // reload: the saved final checkpoint equals the trained parameters bit for bit
      const reloaded = await loadPretrained(last.path, { engine });
      const live = runtime.parameters();
      for (const name of ['roberta.embeddings.word_embeddings.weight', 'roberta.encoder.layer.11.output.dense.weight', 'roberta.embeddings.LayerNorm.bias']) {
        expect(Buffer.from(reloaded.encoder.get(name)!.data.buffer).equals(Buffer.from(live.get(name)!.data.slice().buffer)), name).toBe(true);
      }
      runtime.dispose();

      // average the checkpoints of steps 5 and 10
      const out = join(dir, 'average');
      await averageCheckpoints([{ checkpoint: first, weight: 0.5 }, { checkpoint: last, weight: 0.5 }], out);
      const averaged = await loadPretrained(out, { engine });
      const a = (await loadPretrained(first.path, { engine })).encoder.get('roberta.encoder.layer.0.attention.self.query.weight')!.data;
      const b = reloaded.encoder.get('roberta.encoder.layer.0.attention.self.query.weight')!.data;
      const m = averaged.encoder.get('roberta.encoder.layer.0.attention.self.query.weight')!.data;
      for (let i = 0; i < m.length; i += 997) expect(m[i]).toBe(Math.fround((a[i]! + b[i]!) / 2));
      process.stderr.write(`[xlmr-base] peak RSS ${(process.resourceUsage().maxRSS / 1024 / 1024).toFixed(2)} GB\n`);
    } finally {
      await cleanup();
    }
  }, 1_800_000);
});
