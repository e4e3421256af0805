import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerModule } from 'inversify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreModule } from '../core-module.js';
import { createEngine, type Engine, AveragingStrategy, TaskPlugin, SafetensorsFile } from '@xlt/plugin-api';
import { tempDir } from '@xlt/plugin-api/testing';
import { engineServices } from './engine-services.js';
import { sha256File } from './file-hash.js';
import type { Provenance } from './provenance.js';
import { runExperiment, type ExperimentOutcome } from './runner.js';
import { CheckpointMerger } from '@xlt/plugin-api';
import { readCheckpointTensors, tensorMerger } from './testing/tensor-merger.js';
import { tinyTextTask, writeTinyTextExperiment } from './testing/tiny-text-task.js';
import { toyStrategies } from './testing/toy-strategies.js';
import { METRICS_FILE, readMetricsLog } from '../telemetry/metrics-log.js';

/** The tiny text task, the toy strategies and a plain tensor merger: a real encoder, no `@xlt/averaging`. */
const tinyTextModule = new ContainerModule(({ bind }) => {
  bind(TaskPlugin).toConstantValue(tinyTextTask);
  for (const s of toyStrategies) bind(AveragingStrategy).toConstantValue(s);
  bind(CheckpointMerger).toConstantValue(tensorMerger);
});

const quiet = { print: () => {}, stderr: () => {} };
const HEAD = ['classifier.weight', 'classifier.bias'];
const bytes = (t: { data: Float32Array }) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

/** Every checkpoint folder of every run of an output folder. */
async function checkpointsOf(out: string): Promise<string[]> {
  const folders: string[] = [];
  for (const run of (await readdir(join(out, 'runs'))).sort()) {
    for (const c of (await readdir(join(out, 'runs', run))).filter((d) => d.startsWith('checkpoint-')).sort()) folders.push(join(out, 'runs', run, c));
  }
  return folders;
}

describe('the shared frozen head on a tiny random BERT (tfjs-cpu, 2 learning rates x 2 seeds)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let engine: Engine;
  let shared: ExperimentOutcome;
  let perRun: ExperimentOutcome;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('xlt-shared-head-'));
    engine = await createEngine([coreModule, tinyTextModule]);
    const services = engineServices(engine, { log: () => {} });
    shared = await runExperiment(await writeTinyTextExperiment(dir), { engine, services, out: join(dir, 'shared'), ...quiet });
    perRun = await runExperiment(await writeTinyTextExperiment(dir, { training: { maxLength: 16, evalBatchSize: 16, head: { protocol: 'per-run' } } }), { engine, services, out: join(dir, 'per-run'), ...quiet });
  });
  afterAll(() => cleanup());

  it('gives every checkpoint of every run head tensors byte-identical to the head phase, while the encoders differ', async () => {
    const headFile = join(shared.outDir, 'head', 'head.safetensors');
    const marker = JSON.parse(await readFile(join(shared.outDir, 'head', 'head.json'), 'utf8'));
    // 24 examples / batch 8 = 3 steps; the hash in head.json is the file's.
    expect(marker).toMatchObject({ protocol: 'shared-frozen', seed: 0, steps: 3, file: 'head.safetensors', sha256: await sha256File(headFile) });
    // The head phase logs its steps like a run: one metrics record per optimizer step, the learning rate decaying.
    const metrics = await readMetricsLog(join(shared.outDir, 'head', METRICS_FILE));
    expect(metrics.map((r) => r.step)).toEqual([1, 2, 3]);
    for (const r of metrics) expect(Number.isFinite(r['loss']) && Number.isFinite(r['grad_norm']) && (r['grad_norm'] as number) > 0).toBe(true);
    expect(metrics[2]!['learning_rate']).toBeLessThan(metrics[0]!['learning_rate'] as number);
    const file = await SafetensorsFile.open(headFile);
    const trainedHead = new Map<string, Float32Array>();
    for (const name of HEAD) trainedHead.set(name, await file.readFloat32(name));
    await file.close();

    const pretrained = await readCheckpointTensors(join(dir, 'model'));
    expect(pretrained.has('classifier.weight')).toBe(false);
    const checkpoints = await checkpointsOf(shared.outDir);
    expect(checkpoints).toHaveLength(4 * 3);
    const encoders = new Set<string>();
    for (const folder of checkpoints) {
      const tensors = await readCheckpointTensors(folder);
      for (const name of HEAD) expect(bytes(tensors.get(name)!).equals(bytes({ data: trainedHead.get(name)! })), `${folder} ${name}`).toBe(true);
      encoders.add(bytes(tensors.get('bert.encoder.layer.0.attention.self.query.weight')!).toString('hex'));
    }
    expect(encoders.size).toBe(checkpoints.length);
    // The head phase trained the head (it is not the seed's fresh draw of zero biases).
    expect([...trainedHead.get('classifier.bias')!].some((x) => x !== 0)).toBe(true);

    // Per-run heads differ between runs: the case the shared head protocol exists for.
    const finals = (await checkpointsOf(perRun.outDir)).filter((f) => f.endsWith('checkpoint-3'));
    const heads = await Promise.all(finals.map(async (f) => bytes((await readCheckpointTensors(f)).get('classifier.weight')!).toString('hex')));
    expect(new Set(heads).size).toBe(4);
  });

  it('run-averages to another model than the same grid with per-run heads, and says which protocol each row used', async () => {
    const ra = async (out: string) => readCheckpointTensors(join(out, 'models', 'run-average', 'lr=0.001_bs=8_ep=1_sched=linear_wu=0', 'model'));
    const a = await ra(shared.outDir);
    const b = await ra(perRun.outDir);
    expect(bytes(a.get('classifier.weight')!).equals(bytes(b.get('classifier.weight')!))).toBe(false);
    expect(bytes(a.get('bert.encoder.layer.0.attention.self.query.weight')!).equals(bytes(b.get('bert.encoder.layer.0.attention.self.query.weight')!))).toBe(false);
    // The shared RA keeps the shared head exactly (every run has it); the per-run RA averages four different heads.
    const headFile = await readCheckpointTensors(join(shared.outDir, 'runs', (await readdir(join(shared.outDir, 'runs')))[0]!, 'checkpoint-3'));
    for (const name of HEAD) {
      const averaged = a.get(name)!.data;
      headFile.get(name)!.data.forEach((x, i) => expect(averaged[i]).toBeCloseTo(x, 6));
    }
    expect(new Set(shared.records.map((r) => r.headProtocol))).toEqual(new Set(['shared-frozen']));
    expect(new Set(perRun.records.map((r) => r.headProtocol))).toEqual(new Set(['per-run']));
    const raRow = (o: ExperimentOutcome) => o.records.filter((r) => r.strategy === 'run-average' && r.metric === 'accuracy');
    // runGroups defaults to seeds: one run average per learning rate, on each of the 2 targets.
    expect(raRow(shared)).toHaveLength(4);
    expect(raRow(perRun)).toHaveLength(4);
  });

  it('writes provenance.json with the backend and its threads, the head and the model and data hashes', async () => {
    const p = JSON.parse(await readFile(join(shared.outDir, 'provenance.json'), 'utf8')) as Provenance;
    expect(p.backend).toMatchObject({ id: 'tfjs-cpu', threads: 1 });
    expect(p.headProtocol).toBe('shared-frozen');
    expect(p.head).toMatchObject({ file: join('head', 'head.safetensors'), steps: 3 });
    expect(p.model.folder).toBe(join(dir, 'model'));
    expect(p.model.files.map((f) => f.file)).toEqual(['config.json', 'model.safetensors']);
    for (const f of p.model.files) expect(f.sha256).toBe(await sha256File(join(dir, 'model', f.file)));
    expect(p.data.map((d) => d.path)).toEqual(['source.train', 'source.dev', 'targets.xx.test', 'targets.yy.test']);
    expect(p.wallSeconds.head!.seconds).toBeGreaterThan(0);
    expect(Object.keys(p.wallSeconds.runs)).toHaveLength(4);
    const perRunProvenance = JSON.parse(await readFile(join(perRun.outDir, 'provenance.json'), 'utf8')) as Provenance;
    expect(perRunProvenance.headProtocol).toBe('per-run');
    expect(perRunProvenance.head).toBeUndefined();
    expect(perRunProvenance.wallSeconds.head).toBeUndefined();
  });
});
