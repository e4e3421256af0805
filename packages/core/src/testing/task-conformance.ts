import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  InputError,
  type EncoderConfig,
  type BatchTargets,
  type DatasetSource,
  type Feature,
  type TaskContext,
  type TaskHead,
  type TaskPlugin,
  type Tokenizer,
  readText,
  seededRandom,
  normalArray,
} from '@xlt/plugin-api';
import { bertProvider } from '../encoders/bert-provider.js';
import { xlmRobertaProvider } from '../encoders/xlm-roberta-provider.js';
import { taskArchitecture, writeCheckpointFolder } from '../trainer/checkpoint-folder.js';
import { tempDir, type TestApi } from '@xlt/plugin-api/testing';

/** A file the task must refuse with an {@link InputError} naming it (and the line, when given). */
export interface InvalidTaskFile {
  readonly source: DatasetSource;
  /** 1-based line the error must name, as `path:line`. */
  readonly line?: number;
}

/** What {@link describeTaskConformance} runs the task on. All of it is written by the task's own tests. */
export interface TaskConformanceFixture<E = unknown, P = unknown> {
  /** The runner's test functions: `{ describe, it, expect, beforeAll }` from vitest (or Jest). */
  readonly runner: TestApi;
  /** Small data files the task reads; every one must parse to at least one example. */
  readonly files: readonly DatasetSource[];
  /**
   * Tokenizer for featurization, usually {@link whitespaceTokenizer}; a function when it must be loaded first (a real
   * tokenizer in a data suite), called once before the tests.
   */
  readonly tokenizer: Tokenizer | (() => Promise<Tokenizer>);
  /** The gold answers of examples as predictions: their score must be the metric's maximum. */
  gold(examples: readonly E[]): P[];
  /** Maximum of the primary metric (what gold predictions score). Default 100 (accuracy, F1 in percent). */
  readonly maxScore?: number;
  /** `maxLength` of featurization; small values exercise truncation and windows. Default 32. */
  readonly maxLength?: number;
  /** Task options passed to read, labelSpace, featurize and the head. Default `{}`. */
  readonly options?: Record<string, unknown>;
  /** HF `model_type`s to build the head for. Default `['bert', 'xlm-roberta']`. */
  readonly modelTypes?: readonly string[];
  /** Hidden size of the random encoder output. Default 8. */
  readonly hiddenSize?: number;
  /** Files that must be refused with an {@link InputError}. */
  readonly invalidFiles?: readonly InvalidTaskFile[];
  /** True for tasks without a label inventory (extractive QA predicts spans): `labelSpace` must then be empty. */
  readonly noLabels?: boolean;
}

/**
 * A small {@link EncoderConfig} for head tests: nothing but the fields a head may read carry meaning
 * (`hiddenSize`, `initializerRange`, dropout, `modelType`, `architecture`). Model types of core's providers are
 * parsed by them, so the config carries their `architecture`; any other type gets none.
 */
export function tinyEncoderConfig(modelType: string, hiddenSize = 8): EncoderConfig {
  const raw = {
    model_type: modelType,
    vocab_size: 1000,
    hidden_size: hiddenSize,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 4 * hiddenSize,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    max_position_embeddings: 64,
    type_vocab_size: 2,
    layer_norm_eps: 1e-12,
    pad_token_id: 0,
    initializer_range: 0.02,
  };
  const provider = [bertProvider, xlmRobertaProvider].find((p) => p.modelTypes.includes(modelType));
  if (provider) return provider.parseConfig(raw, `tiny ${modelType} config`);
  return {
    modelType,
    vocabSize: raw.vocab_size,
    hiddenSize,
    numHiddenLayers: raw.num_hidden_layers,
    numAttentionHeads: raw.num_attention_heads,
    intermediateSize: raw.intermediate_size,
    hiddenAct: raw.hidden_act,
    hiddenDropoutProb: raw.hidden_dropout_prob,
    attentionProbsDropoutProb: raw.attention_probs_dropout_prob,
    maxPositionEmbeddings: raw.max_position_embeddings,
    typeVocabSize: raw.type_vocab_size,
    layerNormEps: raw.layer_norm_eps,
    padTokenId: raw.pad_token_id,
    initializerRange: raw.initializer_range,
    raw,
  };
}

/** Standard normal tensor drawn from a seeded generator, so a failing conformance run repeats exactly. */
function randomHidden(shape: [number, number, number], seed: number): tf.Tensor3D {
  return tf.tensor3d(normalArray(shape[0] * shape[1] * shape[2], 1, seededRandom(seed)), shape);
}

function toTensors(values: Record<string, Float32Array>, head: TaskHead): Record<string, tf.Tensor> {
  return Object.fromEntries(Object.entries(values).map(([name, data]) => [name, tf.tensor(data, [...head.parameters[name]!])]));
}

/** The rows of a head output, one per feature, with per-token outputs cut to the feature's length. */
function logitRows(logits: tf.Tensor, features: readonly Feature[]): Float32Array[] {
  const data = logits.dataSync() as Float32Array;
  const [batch, ...rest] = logits.shape;
  const rowSize = rest.reduce((a, b) => a * b, 1);
  const perToken = rest.length >= 2;
  const tokenSize = perToken ? rest.slice(1).reduce((a, b) => a * b, 1) : rowSize;
  return Array.from({ length: batch! }, (_, b) => {
    const row = data.subarray(b * rowSize, (b + 1) * rowSize);
    return Float32Array.from(perToken ? row.subarray(0, features[b]!.inputIds.length * tokenSize) : row);
  });
}

/**
 * Registers the shared conformance tests of a {@link TaskPlugin} (like TF.js's shared backend tests): every task
 * package runs them in its own spec over fixtures it writes. They check the contract end to end on the CPU
 * backend: reading, label space, featurization, collation, head parameters and forward pass, a loss that a few
 * gradient steps lower, decoding, scoring (gold scores the maximum) and the predictions file round trip.
 */
export function describeTaskConformance<E, F extends Feature, P>(
  task: TaskPlugin<E, F, P>,
  fixture: TaskConformanceFixture<E, P>,
): void {
  const maxLength = fixture.maxLength ?? 32;
  const options = fixture.options ?? {};
  const modelTypes = fixture.modelTypes ?? ['bert', 'xlm-roberta'];
  const hiddenSize = fixture.hiddenSize ?? 8;
  const maxScore = fixture.maxScore ?? 100;
  const { describe, it, expect, beforeAll } = fixture.runner;

  describe(`task conformance: ${task.id}`, () => {
    const datasets: { source: DatasetSource; examples: E[] }[] = [];
    let examples: E[] = [];
    let labels: string[] = [];
    let context: TaskContext;
    let features: F[] = [];
    let tokenizer: Tokenizer;

    beforeAll(async () => {
      tokenizer = typeof fixture.tokenizer === 'function' ? await fixture.tokenizer() : fixture.tokenizer;
      await tf.setBackend('cpu');
      for (const source of fixture.files) datasets.push({ source, examples: await task.read(source, options) });
      examples = datasets.flatMap((d) => d.examples);
      labels = task.labelSpace(examples, options);
      context = { labels, maxLength, options };
      features = await task.featurize(examples, tokenizer, context);
    });

    it('declares an id, a description, formats and a primary metric', () => {
      expect(task.id).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(task.description.length).toBeGreaterThan(0);
      expect(task.formats.length).toBeGreaterThan(0);
      expect(new Set(task.formats.map((f) => f.id)).size).toBe(task.formats.length);
      expect(task.primaryMetric.length).toBeGreaterThan(0);
    });

    it('reads every fixture file to at least one example', () => {
      expect(fixture.files.length).toBeGreaterThan(0);
      for (const { source, examples: read } of datasets) expect(read.length, source.path).toBeGreaterThan(0);
    });

    it('detects the format of every fixture file without a format id', async () => {
      for (const source of fixture.files.filter((s) => s.format === undefined)) {
        const head = (await readText(source.path)).slice(0, 4096);
        expect(task.formats.some((f) => f.detect(source.path, head)), source.path).toBe(true);
      }
    });

    for (const invalid of fixture.invalidFiles ?? []) {
      it(`refuses ${invalid.source.path.split(/[\\/]/).pop()} with an InputError naming the place`, async () => {
        const error = await task.read(invalid.source, options).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(InputError);
        const where = invalid.line === undefined ? invalid.source.path : `${invalid.source.path}:${invalid.line}`;
        expect((error as Error).message).toContain(where);
      });
    }

    it('gives a stable label space (same labels whatever the order or the call)', () => {
      if (fixture.noLabels) expect(labels).toEqual([]);
      else expect(labels.length).toBeGreaterThan(0);
      expect(new Set(labels).size).toBe(labels.length);
      expect(task.labelSpace(examples, options)).toEqual(labels);
      expect(task.labelSpace(examples.slice().reverse(), options)).toEqual(labels);
    });

    it('featurizes every example into features within maxLength', () => {
      expect(features.length).toBeGreaterThanOrEqual(examples.length > 0 ? 1 : 0);
      const covered = new Set<number>();
      // Problems are collected and compared once: an expect per token would make real data sets slow.
      const problems: string[] = [];
      features.forEach((f, i) => {
        if (!(Number.isInteger(f.exampleIndex) && f.exampleIndex >= 0 && f.exampleIndex < examples.length)) {
          problems.push(`feature ${i}: exampleIndex ${f.exampleIndex}`);
        }
        covered.add(f.exampleIndex);
        if (f.inputIds.length === 0 || f.inputIds.length > maxLength) problems.push(`feature ${i}: ${f.inputIds.length} tokens`);
        if (f.tokenTypeIds.length !== f.inputIds.length) problems.push(`feature ${i}: ${f.tokenTypeIds.length} token type ids`);
        if (!f.inputIds.every((id) => Number.isInteger(id) && id >= 0 && id < tokenizer.vocabSize)) problems.push(`feature ${i}: id out of range`);
      });
      expect(problems.slice(0, 10)).toEqual([]);
      expect(covered.size).toBe(examples.length);
    });

    it('collates targets with one row (or one row of sequenceLength) per feature', () => {
      const batch = features.slice(0, 4);
      const sequenceLength = Math.max(...batch.map((f) => f.inputIds.length));
      const targets = task.collate(batch, sequenceLength, context);
      expect(Object.keys(targets).length).toBeGreaterThan(0);
      for (const [name, array] of Object.entries(targets)) {
        expect([batch.length, batch.length * sequenceLength], name).toContain(array.length);
      }
    });

    for (const modelType of modelTypes) {
      describe(`head for ${modelType}`, () => {
        const encoder = tinyEncoderConfig(modelType, hiddenSize);
        const makeHead = () => task.createHead({ encoder, labels, options });

        it('initialises exactly the declared parameters, HF layout, finite, reproducibly', () => {
          const head = makeHead();
          const values = head.init(seededRandom(1));
          expect(Object.keys(values).sort()).toEqual(Object.keys(head.parameters).sort());
          for (const [name, shape] of Object.entries(head.parameters)) {
            expect(shape.every((d) => Number.isInteger(d) && d > 0), name).toBe(true);
            expect(values[name]!.length, name).toBe(shape.reduce((a, b) => a * b, 1));
            expect(values[name]!.every(Number.isFinite), name).toBe(true);
          }
          expect(Object.values(values).some((v) => v.some((x) => x !== 0))).toBe(true);
          expect(makeHead().init(seededRandom(1))).toEqual(values);
        });

        it('names its HF task class, which checkpoint folders write with the label inventory', async () => {
          const head = makeHead();
          expect(head.architectureSuffix ?? 'nothing', 'TaskHead.architectureSuffix').toMatch(/^For[A-Z][A-Za-z]*$/);
          const architecture = taskArchitecture(encoder, head);
          expect(architecture).toBe(`${encoder.architecture!.classPrefix}${head.architectureSuffix}`);
          const values = head.init(seededRandom(1));
          const tensors = new Map(Object.entries(head.parameters).map(([name, shape]) => [name, { shape, data: values[name]! }]));
          const { dir, cleanup } = await tempDir('xlt-task-conformance-');
          try {
            const folder = await writeCheckpointFolder(dir, 1, { config: encoder, encoder: new Map(), head: tensors, labels, architecture, metadata: {} });
            const config = JSON.parse(await readText(join(folder, 'config.json'))) as Record<string, unknown>;
            expect(config.architectures).toEqual([architecture]);
            expect(config.model_type).toBe(modelType);
            if (labels.length === 0) {
              expect(config.id2label).toBe(undefined);
            } else {
              expect(config.id2label).toEqual(Object.fromEntries(labels.map((label, i) => [String(i), label])));
              expect(config.label2id).toEqual(Object.fromEntries(labels.map((label, i) => [label, i])));
            }
          } finally {
            await cleanup();
          }
        });

        it('gives finite logits, a finite loss that a few gradient steps lower, and decodable outputs', async () => {
          const head = makeHead();
          const batch = features.slice(0, 8);
          const sequenceLength = Math.max(...batch.map((f) => f.inputIds.length));
          const targets: BatchTargets = task.collate(batch, sequenceLength, context);
          const hidden = randomHidden([batch.length, sequenceLength, hiddenSize], 7);
          const initial = toTensors(head.init(seededRandom(2)), head);
          const variables = Object.fromEntries(Object.entries(initial).map(([n, t]) => [n, tf.variable(t, true, `${task.id}.${modelType}.${n}`)]));
          try {
            const logits = head.forward(tf, hidden, variables, false);
            expect(logits.shape[0]).toBe(batch.length);
            expect(Array.from(logits.dataSync()).every(Number.isFinite)).toBe(true);
            const trainingLogits = head.forward(tf, hidden, variables, true, 5);
            expect(trainingLogits.shape).toEqual(logits.shape);
            // Same dropoutSeed, same masks: a run repeats exactly.
            expect(Array.from(head.forward(tf, hidden, variables, true, 5).dataSync())).toEqual(Array.from(trainingLogits.dataSync()));

            const lossOf = () => head.loss(tf, head.forward(tf, hidden, variables, false), targets);
            const before = lossOf().dataSync()[0]!;
            expect(Number.isFinite(before)).toBe(true);
            const optimizer = tf.train.adam(0.05);
            for (let step = 0; step < 15; step++) {
              const { value, grads } = tf.variableGrads(lossOf, Object.values(variables));
              optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
              tf.dispose([value, ...Object.values(grads)]);
            }
            const after = lossOf().dataSync()[0]!;
            expect(Number.isFinite(after)).toBe(true);
            expect(after).toBeLessThan(before);

            const exampleIndexes = [...new Set(batch.map((f) => f.exampleIndex))];
            // decode receives the examples of the batch re-indexed from 0, as an evaluation loop slices them.
            const batchExamples = exampleIndexes.map((i) => examples[i]!);
            const reindexed = batch.map((f) => ({ ...f, exampleIndex: exampleIndexes.indexOf(f.exampleIndex) }));
            const predictions = task.decode(logitRows(logits, batch), reindexed, batchExamples, context);
            expect(predictions.length).toBe(batchExamples.length);
            const score = task.score(batchExamples, predictions, context)[task.primaryMetric]!;
            expect(score).toBeGreaterThanOrEqual(0);
            expect(score).toBeLessThanOrEqual(maxScore);
            optimizer.dispose();
          } finally {
            tf.dispose([hidden, ...Object.values(initial), ...Object.values(variables)]);
          }
        });
      });
    }

    it('decodes the head outputs of every feature into one prediction per example', () => {
      const head = task.createHead({ encoder: tinyEncoderConfig(modelTypes[0]!, hiddenSize), labels, options });
      const sequenceLength = Math.max(...features.map((f) => f.inputIds.length));
      const hidden = randomHidden([features.length, sequenceLength, hiddenSize], 11);
      const params = toTensors(head.init(seededRandom(3)), head);
      try {
        const logits = head.forward(tf, hidden, params, false);
        const predictions = task.decode(logitRows(logits, features), features, examples, context);
        expect(predictions.length).toBe(examples.length);
        logits.dispose();
      } finally {
        tf.dispose([hidden, ...Object.values(params)]);
      }
    });

    it('scores gold as prediction at the maximum of the primary metric', () => {
      const gold = fixture.gold(examples);
      expect(gold.length).toBe(examples.length);
      const metrics = task.score(examples, gold, context);
      expect(metrics[task.primaryMetric]).toBeCloseTo(maxScore, 6);
      for (const value of Object.values(metrics)) expect(Number.isFinite(value)).toBe(true);
    });

    it('round-trips predictions through formatPredictions and parsePredictions', () => {
      const gold = fixture.gold(examples);
      const text = task.formatPredictions(gold, examples);
      expect(task.parsePredictions(text, 'gold.pred', examples)).toEqual(gold);
      for (const { examples: read } of datasets) {
        const part = fixture.gold(read);
        expect(task.parsePredictions(task.formatPredictions(part, read), 'part.pred', read)).toEqual(part);
      }
    });

    it('refuses a predictions file with a prediction missing', () => {
      const gold = fixture.gold(examples);
      if (gold.length === 0) return;
      const text = task.formatPredictions(gold.slice(0, -1), examples.slice(0, -1));
      expect(() => task.parsePredictions(text, 'short.pred', examples)).toThrow(InputError);
    });

    // EXTENSION POINT (trainer conformance): once the real trainer lands (issue #3), add a test here that
    // fine-tunes a tiny random encoder plus this task's head for a few steps through the bound Trainer on
    // `features` and checks that the loss falls and that the saved folder round-trips through the head's HF names.
  });
}
