/**
 * NLI through core's engine services on tiny random model folders (issue #14): BERT runs start from the folder's
 * pretrained pooler and draw only the classifier, as `BertForSequenceClassification.from_pretrained` does;
 * checkpoints name the HF class and labels in `config.json`; prediction finds the head of a trained checkpoint,
 * pooler included. XLM-R's `RobertaClassificationHead` goes the same way.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerModule } from 'inversify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bertProvider,
  deriveSeed,
  engineServices,
  initEncoderParameters,
  modelModule,
  savePretrained,
  tokenizerModule,
  train,
  writeTinyUnigramTokenizer,
  writeTinyWordPieceTokenizer,
  xlmRobertaProvider,
  type RunTrainingJob,
  type TrainingJob,
  type TrainingResult,
} from '@xlt/core';
import {
  createEngine,
  SafetensorsFile,
  seededRandom,
  Trainer,
  type EncoderProvider,
  type Feature,
} from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { NLI_LABELS } from './labels.js';
import type { NliLabel } from './labels.js';
import type { NliExample } from './nli-example.js';
import { nliModule } from './index.js';
import { nliTask } from './nli-task.js';

const WORDS = ['hello', 'world', 'the', 'cat', 'sat', 'on', 'mat', 'a', 'dog', 'is', 'here'];
/** Runs whose id starts with this train with the head frozen, so the checkpoint shows the head they started from. */
const FROZEN = 'frozen';

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir: root, cleanup } = await tempDir('xlt-nli-folders-')));
afterAll(() => cleanup());

/** Twelve pairs of vocabulary words, every label four times. */
function examples(): NliExample[] {
  const random = seededRandom(5);
  const sentence = () => Array.from({ length: 3 + Math.floor(random() * 4) }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ');
  return Array.from({ length: 12 }, (_, i) => ({ premise: sentence(), hypothesis: sentence(), label: NLI_LABELS[i % 3]! as NliLabel, file: 'generated', line: i + 1 }));
}

/** A tiny random pretrained encoder folder with its pooler (as HF's BertModel / XLMRobertaModel checkpoints ship). */
async function modelFolder(name: string, provider: EncoderProvider, modelType: string): Promise<string> {
  const folder = join(root, name);
  const tokenizer = join(root, `${name}-tokenizer`);
  const roberta = modelType !== 'bert';
  if (roberta) await writeTinyUnigramTokenizer(tokenizer);
  else await writeTinyWordPieceTokenizer(tokenizer);
  const raw = {
    architectures: [roberta ? 'XLMRobertaModel' : 'BertModel'],
    model_type: modelType,
    vocab_size: 64,
    hidden_size: 16,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 32,
    max_position_embeddings: 40,
    type_vocab_size: roberta ? 1 : 2,
    pad_token_id: roberta ? 1 : 0,
    initializer_range: 0.2,
  };
  const config = provider.parseConfig(raw, join(folder, 'config.json'));
  const files = roberta ? ['tokenizer.json'] : ['vocab.txt', 'tokenizer_config.json'];
  await savePretrained(folder, {
    config,
    tensors: initEncoderParameters(config, provider, 3, { pooler: true }),
    tokenizerFiles: files.map((f) => join(tokenizer, f)),
  });
  return folder;
}

async function tensorsOf(folder: string): Promise<Map<string, Float32Array>> {
  const file = await SafetensorsFile.open(join(folder, 'model.safetensors'));
  try {
    const out = new Map<string, Float32Array>();
    for (const name of file.tensors.keys()) out.set(name, await file.readFloat32(name));
    return out;
  } finally {
    await file.close();
  }
}

function bytes(values: Float32Array | undefined): Buffer {
  if (!values) throw new Error('tensor missing');
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

/** The engine of `xlt run` for NLI on tfjs-cpu, with a `default` trainer that records each job's initial head. */
async function nliServices(initialHeads: Map<string, TrainingJob<Feature>['initialHead']>) {
  const recording: Trainer<TrainingJob<Feature>, TrainingResult> = {
    id: 'default',
    description: 'core train, recording the initial head',
    train(job) {
      initialHeads.set(job.runId!, job.initialHead);
      return train(job.runId!.startsWith(FROZEN) ? { ...job, options: { ...job.options, freezeHead: true } } : job);
    },
  };
  const engine = await createEngine([modelModule, tokenizerModule, nliModule, new ContainerModule(({ bind }) => void bind(Trainer).toConstantValue(recording))]);
  return engineServices(engine, { log: () => {} });
}

function trainingJob(model: string, runId: string): RunTrainingJob {
  return {
    runId,
    runDir: join(root, 'runs', runId),
    task: nliTask as RunTrainingJob['task'],
    taskOptions: {},
    model,
    backend: 'tfjs-cpu',
    trainer: 'default',
    train: examples(),
    labels: NLI_LABELS,
    hyperparameters: { learningRate: 5e-3, batchSize: 4, epochs: 1, schedule: 'linear', warmup: 0, seed: 7 },
    training: { maxLength: 24, weightDecay: 0.01, maxGradNorm: 1, gradientAccumulation: 1, evalBatchSize: 8 } as RunTrainingJob['training'],
    checkpoints: { perEpoch: 1 },
  };
}

async function predictWith(services: Awaited<ReturnType<typeof nliServices>>, model: string) {
  const test = examples();
  const predictions = await services.predict({ task: nliTask as RunTrainingJob['task'], taskOptions: {}, model, backend: 'tfjs-cpu', examples: test, labels: NLI_LABELS, maxLength: 24, batchSize: 8 });
  return { predictions, test };
}

describe('NLI on a BERT model folder', () => {
  const heads = new Map<string, TrainingJob<Feature>['initialHead']>();
  let model: string;
  let services: Awaited<ReturnType<typeof nliServices>>;
  beforeAll(async () => {
    model = await modelFolder('bert', bertProvider, 'bert');
    services = await nliServices(heads);
  });

  it('starts from the pretrained pooler (byte-identical) and draws only the classifier from the seed', async () => {
    const [checkpoint] = await services.train(trainingJob(model, `${FROZEN}-bert`));
    const pretrained = await tensorsOf(model);
    const initial = heads.get(`${FROZEN}-bert`)!;
    expect(Object.keys(initial).sort()).toEqual(['bert.pooler.dense.bias', 'bert.pooler.dense.weight']);
    for (const name of ['bert.pooler.dense.weight', 'bert.pooler.dense.bias']) {
      expect(bytes(initial[name]).equals(bytes(pretrained.get(name))), name).toBe(true);
    }
    // The head was frozen: the checkpoint holds the head the run started from.
    const saved = await tensorsOf(checkpoint!.path);
    for (const name of ['bert.pooler.dense.weight', 'bert.pooler.dense.bias']) {
      expect(bytes(saved.get(name)).equals(bytes(pretrained.get(name))), name).toBe(true);
    }
    const head = nliTask.createHead({ encoder: bertProvider.parseConfig(JSON.parse(await readFile(join(model, 'config.json'), 'utf8')), 'config.json'), labels: NLI_LABELS, options: {} });
    const drawn = head.init(seededRandom(deriveSeed(7, 'head-init')));
    for (const name of ['classifier.weight', 'classifier.bias']) expect(bytes(saved.get(name)).equals(bytes(drawn[name])), name).toBe(true);
  });

  it('writes checkpoints that name BertForSequenceClassification and the labels, and predicts from them', async () => {
    const checkpoints = await services.train(trainingJob(model, 'trained-bert'));
    const last = checkpoints.at(-1)!.path;
    const config = JSON.parse(await readFile(join(last, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config.architectures).toEqual(['BertForSequenceClassification']);
    expect(config.id2label).toEqual({ 0: 'entailment', 1: 'neutral', 2: 'contradiction' });
    expect(config.label2id).toEqual({ entailment: 0, neutral: 1, contradiction: 2 });
    // The pooler trained with the rest, and the checkpoint keeps it under its HF name.
    const saved = await tensorsOf(last);
    expect(bytes(saved.get('bert.pooler.dense.weight')).equals(bytes((await tensorsOf(model)).get('bert.pooler.dense.weight')))).toBe(false);

    const { predictions, test } = await predictWith(services, last);
    expect(predictions).toHaveLength(test.length);
    for (const p of predictions) expect(NLI_LABELS).toContain(p);
  });

  it('refuses to predict from the pretrained folder, naming the head parameters it lacks', async () => {
    await expect(predictWith(services, model)).rejects.toThrow(/has no complete nli head for 3 labels: classifier\.weight \(expected shape \[3, 16\], found nothing\)/);
  });
});

describe('NLI on an XLM-R model folder', () => {
  it('trains RobertaClassificationHead from the seed, names XLMRobertaForSequenceClassification and predicts', async () => {
    const heads = new Map<string, TrainingJob<Feature>['initialHead']>();
    const model = await modelFolder('xlmr', xlmRobertaProvider, 'xlm-roberta');
    const services = await nliServices(heads);
    const checkpoints = await services.train(trainingJob(model, 'trained-xlmr'));
    // The pretrained pooler is not part of this head: nothing is taken from the folder.
    expect(heads.get('trained-xlmr')).toEqual({});
    const last = checkpoints.at(-1)!.path;
    const config = JSON.parse(await readFile(join(last, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config.architectures).toEqual(['XLMRobertaForSequenceClassification']);
    expect(config.id2label).toEqual({ 0: 'entailment', 1: 'neutral', 2: 'contradiction' });
    const names = [...(await tensorsOf(last)).keys()];
    expect(names.filter((n) => n.startsWith('classifier.')).sort()).toEqual([
      'classifier.dense.bias',
      'classifier.dense.weight',
      'classifier.out_proj.bias',
      'classifier.out_proj.weight',
    ]);
    const { predictions, test } = await predictWith(services, last);
    expect(predictions).toHaveLength(test.length);
    for (const p of predictions) expect(NLI_LABELS).toContain(p);
  });
});
