import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EncodedBatch, EncoderRuntime, TrainingBackend } from '../plugins/backend.js';
import type { EncoderProvider, NamedTensors } from '../plugins/encoder.js';
import { openCheckpoint } from '../safetensors/checkpoint.js';
import { writeSafetensors } from '../safetensors/writer.js';
import { dropoutMask, dropoutSite } from '../util/dropout-mask.js';
import { seededRandom } from '../util/random.js';
import {
  BACKEND_REFERENCE_SCRIPT,
  makeCase,
  randomBatch,
  randomParameters,
  runReference,
  tinyConfigJson,
  type ConformanceCase,
  type ConformanceModelType,
  type ReferenceOutputs,
} from './backend-conformance-case.js';
import type { TestApi } from './test-api.js';

/**
 * Tolerances of the numeric checks. The reference computes in float64; a float32 backend differs by its own
 * rounding, which these bound with a margin of about 10x over what the CPU backends measure (see the defaults).
 */
export interface BackendTolerances {
  /** Max absolute difference of hidden states (LayerNorm outputs, values of order 1). */
  readonly hidden: number;
  /** Max absolute gradient difference, relative to the tensor's largest reference gradient (floored, see {@link gradientFloor}). */
  readonly gradient: number;
  /**
   * Floor of that scale: the attention key bias has a gradient that is zero in exact arithmetic (softmax ignores a
   * constant added to a row), so both sides hold rounding noise only; other gradients are of order 0.1 to 10.
   */
  readonly gradientFloor: number;
  /** Max absolute difference of parameters after the AdamW steps, relative to max(1, |reference|). */
  readonly parameter: number;
  /** Max absolute difference of the AdamW moments, relative to the tensor's largest reference moment. */
  readonly moment: number;
}

/**
 * Defaults for float32 backends; measured on tfjs-cpu, tfjs-wasm and native (2-layer, width-32 encoders):
 * - hidden 1e-4 absolute (measured <= 1.7e-6): float32 against float64 rounding; 1e-4 also admits other
 *   reduction orders (threads, SIMD, GPU kernels), while a wrong mask or op gives errors of order 0.1 to 1.
 * - gradient 1e-4 relative to the tensor's largest gradient (measured <= 1.4e-5): the same rounding, amplified by
 *   the backward's longer chains.
 * - parameter 1e-5 relative to max(1, |value|) after 3 AdamW steps of lr <= 1e-3 (measured <= 6e-7): Adam
 *   normalises the gradient, so a 1e-4 gradient error moves a value by ~1e-7, while an AdamW semantic error (bias
 *   correction, decay group, decoupled decay, the step's learning rate) moves values by 1e-6 to 1e-3.
 * - moment 1e-4 relative to the tensor's largest moment (measured <= 1.8e-6): averages of gradients and squares.
 */
export const DEFAULT_BACKEND_TOLERANCES: BackendTolerances = { hidden: 1e-4, gradient: 1e-4, gradientFloor: 0.1, parameter: 1e-5, moment: 1e-4 };

/** How a backend's matrix products compute: float32, TF32 tensor cores (10-bit mantissa inputs), or bfloat16 inputs. */
export type BackendPrecision = 'float32' | 'tf32' | 'bf16';

/**
 * Tolerances per precision. Reduced precision rounds every matrix product's inputs (TF32 to 10 mantissa bits,
 * bfloat16 to 7), so hidden states and gradients get tolerances about 3x over what the CUDA backend's kernels measure
 * under exact TF32 / bf16 input rounding (its CPU emulation, 2-layer width-32 encoders: TF32 hidden <= 4.4e-3,
 * gradients <= 1.3e-2; bf16 hidden <= 3.6e-2, gradients <= 6.8e-2). A wrong mask, op or layout still errs by
 * order 1. The optimizer is checked at float32 tolerance in every precision, against AdamW replayed in float64 on the
 * backend's own gradients (reduced-precision gradient noise on a zero-mean gradient is turned into steps of ±lr by
 * Adam's normalisation, so a comparison with the reference's parameters would check the noise, not the optimizer).
 */
export const BACKEND_TOLERANCES: Readonly<Record<BackendPrecision, BackendTolerances>> = {
  float32: DEFAULT_BACKEND_TOLERANCES,
  tf32: { ...DEFAULT_BACKEND_TOLERANCES, hidden: 1.5e-2, gradient: 4e-2 },
  bf16: { ...DEFAULT_BACKEND_TOLERANCES, hidden: 1e-1, gradient: 2e-1 },
};

/** What the backend conformance suite needs besides the backend. */
export interface BackendConformanceOptions {
  /** The runner's test functions: `{ describe, it, expect, beforeAll }` from vitest (or Jest). */
  readonly runner: TestApi;
  readonly backend: TrainingBackend;
  /** Encoder providers for `bert` and `xlm-roberta` (core's, or the backend's own); the suite parses tiny configs with them. */
  readonly providers: readonly EncoderProvider[];
  /** python3 with torch and numpy; default `XLT_PYTHON`, else `/usr/bin/python3` (Debian's python3-torch) when present, else `python3`. */
  readonly python?: string;
  /** Default {@link BACKEND_REFERENCE_SCRIPT}. */
  readonly referenceScript?: string;
  /** The backend's matrix-product precision (default float32): picks {@link BACKEND_TOLERANCES} and how AdamW is checked. */
  readonly precision?: BackendPrecision;
  /** Overrides of the precision's tolerances. */
  readonly tolerances?: Partial<BackendTolerances>;
  /** Receives one line per measured maximum difference (e.g. `console.info`), for reports. */
  readonly log?: (line: string) => void;
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const x of a) m = Math.max(m, Math.abs(x));
  return m;
}

/** The largest absolute difference; Infinity when the lengths differ, so a shape bug never passes a tolerance. */
function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

function copy(tensors: NamedTensors): NamedTensors {
  return new Map([...tensors].map(([n, t]) => [n, { shape: [...t.shape], data: t.data.slice() }]));
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** torch.optim.AdamW over the case's steps in float64, on the given per-step gradients (see {@link BACKEND_TOLERANCES}). */
function replayAdamw(c: ConformanceCase, grads: readonly Map<string, Float32Array>[]): { params: Map<string, Float32Array>; m: Map<string, Float32Array>; v: Map<string, Float32Array> } {
  const params = new Map<string, Float32Array>(), m = new Map<string, Float32Array>(), v = new Map<string, Float32Array>();
  for (const [name, t] of c.params) {
    const p = Float64Array.from(t.data), mm = new Float64Array(p.length), vv = new Float64Array(p.length);
    c.steps.forEach((step, s) => {
      const g = grads[s]!.get(name)!;
      const bc1 = 1 - step.beta1 ** (s + 1), bc2 = 1 - step.beta2 ** (s + 1);
      const decay = c.noDecay.has(name) ? 1 : 1 - step.learningRate * step.weightDecay;
      for (let i = 0; i < p.length; i++) {
        p[i] = p[i]! * decay;
        mm[i] = step.beta1 * mm[i]! + (1 - step.beta1) * g[i]!;
        vv[i] = step.beta2 * vv[i]! + (1 - step.beta2) * g[i]! * g[i]!;
        p[i] = p[i]! - (step.learningRate / bc1) * (mm[i]! / (Math.sqrt(vv[i]!) / Math.sqrt(bc2) + step.epsilon));
      }
    });
    params.set(name, Float32Array.from(p));
    m.set(name, Float32Array.from(mm));
    v.set(name, Float32Array.from(vv));
  }
  return { params, m, v };
}

/** What one pass of the case's steps on the backend produced. */
interface Trained {
  readonly hiddenEval: Float32Array;
  readonly hidden: Float32Array[];
  readonly grads: Map<string, Float32Array>[];
  readonly params: NamedTensors;
  readonly m: NamedTensors;
  readonly v: NamedTensors;
  /** Eval forward of the eval batch after the last AdamW step (on the updated weights, not a stale copy). */
  readonly hiddenAfter: Float32Array;
}

/**
 * Registers, through the caller's test runner, the checks every {@link TrainingBackend} must pass (built-in or
 * third-party, CPU or GPU) against one PyTorch reference (`reference/backend_reference.py`, HF's BertModel /
 * XLMRobertaModel in float64), for a tiny BERT and a tiny XLM-R:
 * - the dropout-free forward's hidden states;
 * - the training forward with dropout 0.1 at every site, masks from xlt's rule ({@link dropoutMask}: the same seed
 *   gives the same masks on every backend), checked directly at the embedding site and through the outputs;
 * - every parameter's gradient of `sum(hidden * R)`, over 3 steps;
 * - 3 AdamW steps (`torch.optim.AdamW`: decoupled decay, a no-decay group, bias correction, a learning-rate
 *   schedule): parameters and both moments after them;
 * - repeatability for a deterministic backend, and parameters (and moments) round-tripping through a safetensors
 *   file and {@link EncoderRuntime.load}.
 */
export function runBackendConformance(options: BackendConformanceOptions): void {
  const { runner, backend } = options;
  const { describe, it, expect, beforeAll } = runner;
  const precision = options.precision ?? 'float32';
  const tol = { ...BACKEND_TOLERANCES[precision], ...options.tolerances };
  const python = options.python ?? process.env['XLT_PYTHON'] ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  const log = options.log ?? (() => {});
  const providerFor = (modelType: ConformanceModelType): EncoderProvider => {
    const p = options.providers.find((x) => x.modelTypes.includes(modelType));
    if (!p) throw new Error(`runBackendConformance: no provider among [${options.providers.map((x) => x.id).join(', ')}] reads model_type "${modelType}"`);
    return p;
  };

  describe(`training backend conformance: ${backend.id}`, () => {
    it('is available and well-formed', async () => {
      expect(backend.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(typeof backend.priority).toBe('number');
      const probe = await backend.probe();
      expect(probe.available, `${backend.id} unavailable: ${probe.detail}`).toBe(true);
    });

    describe(`${backend.id}: dropout masks follow the shared rule`, () => {
      for (const modelType of ['bert', 'xlm-roberta'] as const) {
        it(`${modelType}: the embedding-site mask is dropoutMask(seed, 0), the same seed repeats, another differs`, async () => {
          const provider = providerFor(modelType);
          const p = 0.25;
          const one = provider.parseConfig(tinyConfigJson(modelType, p, 1), `<conformance ${modelType} config.json>`);
          // No layers: the output is the embeddings' LayerNorm times the mask of site 0, so the mask is read off directly.
          const config = { ...one, numHiddenLayers: 0 };
          const runtime = await backend.createEncoder(config, provider, randomParameters(config, provider, 1));
          try {
            const batch = randomBatch(config, provider, seededRandom(2), [9, 9, 9, 9, 5], 9);
            const plain = await runtime.forward(batch, { training: false });
            const seed = 2 ** 40 + 3;
            const a = await runtime.forward(batch, { training: true, dropoutSeed: seed });
            const b = await runtime.forward(batch, { training: true, dropoutSeed: seed });
            const c = await runtime.forward(batch, { training: true, dropoutSeed: seed + 1 });
            const mask = dropoutMask(seed, dropoutSite.embeddings, a.length, p);
            let wrongZeros = 0, worst = 0, dropped = 0;
            for (let i = 0; i < a.length; i++) {
              if ((a[i] === 0) !== (mask[i] === 0)) wrongZeros++;
              if (mask[i] === 0) dropped++;
              else worst = Math.max(worst, Math.abs(a[i]! - plain[i]! * mask[i]!) / Math.max(Math.abs(plain[i]! * mask[i]!), 1e-6));
            }
            log(`${backend.id} ${modelType} dropout site 0: ${wrongZeros} mask mismatches of ${a.length}, max relative error of kept values ${worst.toExponential(2)}`);
            expect(wrongZeros).toBe(0);
            expect(dropped).toBeGreaterThan(0);
            // Kept values are the eval value times float32(1/(1-p)): one float32 rounding, 2^-23 relative.
            expect(worst).toBeLessThan(1e-6);
            if (backend.deterministic) expect(sameBits(a, b)).toBe(true);
            expect(maxAbsDiff(a, c)).toBeGreaterThan(0.1);
          } finally {
            runtime.dispose();
          }
        });
      }
    });

    for (const modelType of ['bert', 'xlm-roberta'] as const) {
      describe(`${backend.id}: tiny ${modelType} against the PyTorch reference`, () => {
        let c: ConformanceCase;
        let ref: ReferenceOutputs;
        let trained: Promise<Trained> | undefined;
        beforeAll(() => {
          c = makeCase(modelType, providerFor(modelType));
          const dir = mkdtempSync(join(tmpdir(), `xlt-backend-conformance-${modelType}-`));
          try {
            ref = runReference(c, dir, python, options.referenceScript ?? BACKEND_REFERENCE_SCRIPT);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        });

        /** The case's steps on the backend, once: forward (dropout), backward of sum(hidden * R), AdamW, zero. */
        const train = (): Promise<Trained> =>
          (trained ??= (async () => {
            const runtime = await backend.createEncoder(c.config, c.provider, copy(c.params));
            try {
              const hiddenEval = await runtime.forward(c.batches[c.evalBatch]!, { training: false });
              const hidden: Float32Array[] = [];
              const grads: Map<string, Float32Array>[] = [];
              for (let s = 0; s < c.steps.length; s++) {
                const step = c.steps[s]!;
                hidden.push((await runtime.forward(c.batches[step.batch]!, { training: true, dropoutSeed: step.seed })).slice());
                await runtime.backward(c.rs[step.batch]!);
                grads.push(new Map([...runtime.gradients()].map(([n, t]) => [n, t.data.slice()])));
                runtime.adamw({ ...step, step: s + 1, noDecay: c.noDecay });
                runtime.zeroGradients();
                expect(runtime.gradientSquaredNorm()).toBe(0);
              }
              const state = runtime.optimizerState();
              const hiddenAfter = await runtime.forward(c.batches[c.evalBatch]!, { training: false });
              return { hiddenEval, hidden, grads, params: copy(runtime.parameters()), m: copy(state.m), v: copy(state.v), hiddenAfter };
            } finally {
              runtime.dispose();
            }
          })());

        it('forward without dropout: hidden states', async () => {
          const { hiddenEval } = await train();
          expect(maxAbs(ref.hiddenEval)).toBeGreaterThan(0.5);
          const err = maxAbsDiff(hiddenEval, ref.hiddenEval);
          log(`${backend.id} ${modelType} eval hidden: max abs diff ${err.toExponential(2)}`);
          expect(err).toBeLessThanOrEqual(tol.hidden);
        });

        it('training forward with the shared dropout masks: hidden states of every step', async () => {
          const { hidden } = await train();
          let worst = 0;
          for (let s = 0; s < c.steps.length; s++) worst = Math.max(worst, maxAbsDiff(hidden[s]!, ref.hidden[s]!));
          log(`${backend.id} ${modelType} training hidden (dropout 0.1): max abs diff ${worst.toExponential(2)}`);
          expect(worst).toBeLessThanOrEqual(tol.hidden);
        });

        it('every parameter gradient of sum(hidden * R), with the forward masks replayed', async () => {
          const { grads } = await train();
          const failures: string[] = [];
          let worst = 0;
          for (let s = 0; s < c.steps.length; s++) {
            expect([...grads[s]!.keys()].sort()).toEqual([...ref.grads[s]!.keys()].sort());
            for (const [name, expected] of ref.grads[s]!) {
              const err = maxAbsDiff(grads[s]!.get(name)!, expected) / Math.max(maxAbs(expected), tol.gradientFloor);
              worst = Math.max(worst, err);
              if (!(err <= tol.gradient)) failures.push(`step ${s + 1} ${name}: relative error ${err.toExponential(2)} (max |grad| ${maxAbs(expected).toExponential(2)})`);
            }
          }
          log(`${backend.id} ${modelType} gradients: max relative diff ${worst.toExponential(2)}`);
          expect(failures).toEqual([]);
        });

        it('AdamW steps (torch.optim.AdamW): parameters and moments after 3 steps', async () => {
          const t = await train();
          // float32: the reference's own AdamW; reduced precision: AdamW replayed on the backend's gradients.
          const expected = precision === 'float32' ? { params: ref.params, m: ref.m, v: ref.v } : replayAdamw(c, t.grads);
          const failures: string[] = [];
          let worstP = 0, worstM = 0;
          for (const [name, want] of expected.params) {
            // The key bias's gradient is zero in exact arithmetic, so Adam's normalisation turns both sides'
            // rounding noise into steps of about ±lr with arbitrary signs; its gradient is checked above.
            if (precision === 'float32' && name.endsWith('attention.self.key.bias')) continue;
            const ours = t.params.get(name)!.data;
            let err = 0;
            for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(ours[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!)));
            if (ours.length !== want.length || Number.isNaN(err)) err = Infinity;
            worstP = Math.max(worstP, err);
            if (!(err <= tol.parameter)) failures.push(`parameter ${name}: ${err.toExponential(2)}`);
            for (const [what, mine, theirs] of [['m', t.m.get(name)!.data, expected.m.get(name)!], ['v', t.v.get(name)!.data, expected.v.get(name)!]] as const) {
              const e = maxAbsDiff(mine, theirs) / Math.max(maxAbs(theirs), 1e-30);
              worstM = Math.max(worstM, e);
              if (!(e <= tol.moment)) failures.push(`${what} ${name}: relative ${e.toExponential(2)}`);
            }
          }
          // The steps moved the parameters by far more than the tolerance: the check can fail.
          let moved = 0;
          for (const [name, p] of expected.params) moved = Math.max(moved, maxAbsDiff(p, c.params.get(name)!.data));
          log(`${backend.id} ${modelType} AdamW${precision === 'float32' ? '' : ' (replayed on its gradients)'}: params max diff ${worstP.toExponential(2)} (moved up to ${moved.toExponential(2)}), moments max relative diff ${worstM.toExponential(2)}`);
          expect(moved).toBeGreaterThan(100 * tol.parameter);
          expect(failures).toEqual([]);
        });

        it('parameters and moments round-trip through a safetensors file and load()', async () => {
          const t = await train();
          const dir = mkdtempSync(join(tmpdir(), 'xlt-backend-roundtrip-'));
          const fresh = await backend.createEncoder(c.config, c.provider, copy(c.params));
          let reloaded: EncoderRuntime | undefined;
          try {
            const file = join(dir, 'model.safetensors');
            await writeSafetensors(file, [...t.params].map(([name, p]) => ({ name, dtype: 'F32' as const, shape: p.shape, data: p.data })));
            const ckpt = await openCheckpoint(file);
            const read: NamedTensors = new Map();
            for (const name of t.params.keys()) read.set(name, { shape: [...ckpt.tensors.get(name)!.shape], data: await ckpt.readFloat32(name) });
            await ckpt.close();
            for (const [name, p] of t.params) expect(sameBits(read.get(name)!.data, p.data), name).toBe(true);
            const batch: EncodedBatch = c.batches[c.evalBatch]!;
            // A new runtime from the file, and load() into one built from other values, give the same forward.
            reloaded = await backend.createEncoder(c.config, c.provider, read);
            const fromFile = await reloaded.forward(batch, { training: false });
            const before = await fresh.forward(batch, { training: false });
            fresh.load(read, { m: t.m, v: t.v });
            const afterLoad = await fresh.forward(batch, { training: false });
            expect(maxAbsDiff(before, afterLoad)).toBeGreaterThan(1e-3);
            // ... and the trained runtime's own forward after its AdamW steps ran on the updated weights.
            for (const other of [afterLoad, t.hiddenAfter]) {
              if (backend.deterministic) expect(sameBits(fromFile, other)).toBe(true);
              else expect(maxAbsDiff(fromFile, other)).toBeLessThanOrEqual(tol.hidden);
            }
            expect(maxAbsDiff(t.hiddenAfter, t.hiddenEval)).toBeGreaterThan(1e-4);
            for (const [name, p] of fresh.parameters()) expect(sameBits(p.data, t.params.get(name)!.data), name).toBe(true);
            const state = fresh.optimizerState();
            for (const name of t.params.keys()) {
              expect(sameBits(state.m.get(name)!.data, t.m.get(name)!.data), `m ${name}`).toBe(true);
              expect(sameBits(state.v.get(name)!.data, t.v.get(name)!.data), `v ${name}`).toBe(true);
            }
          } finally {
            fresh.dispose();
            reloaded?.dispose();
            rmSync(dir, { recursive: true, force: true });
          }
        });

        if (backend.deterministic) {
          it('is deterministic: the same steps give bitwise the same parameters', async () => {
            const first = await train();
            trained = undefined;
            const second = await train();
            for (const [name, p] of first.params) expect(sameBits(p.data, second.params.get(name)!.data), name).toBe(true);
          });
        }
      });
    }
  });
}
