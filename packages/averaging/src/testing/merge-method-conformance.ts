import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCheckpoint, writeSafetensors, type MergeMethod } from '@xlt/plugin-api';
import type { TestApi } from '@xlt/plugin-api/testing';
import { mergeCheckpoints } from '../merge-methods/merge-checkpoints.js';
import { parseMergeParams } from '../merge-methods/parameters.js';
import { toyCheckpointTensors, writeToyCheckpoint } from './checkpoint-fixtures.js';

/** What {@link runMergeMethodConformance} needs besides the method. */
export interface MergeMethodConformanceOptions {
  /** The runner's test functions: `{ describe, it, expect, beforeAll }` from vitest (or Jest). */
  readonly runner: TestApi;
  /** Valid, non-default parameters to merge with; default `{}` (the defaults). */
  readonly params?: Record<string, unknown>;
  /** Extra parameter objects the method must refuse, besides the suite's own garbage. */
  readonly invalidParams?: readonly Record<string, unknown>[];
  /**
   * Whether copies of one model (with that model as the base, for base methods) merge to that model; default
   * true, which holds for every built-in method.
   */
  readonly identity?: boolean;
}

const FLOAT_NAMES = ['bert.embeddings.word_embeddings.weight', 'classifier.weight', 'classifier.bias'];

/**
 * Registers, through the caller's test runner, the tests every {@link MergeMethod} must pass (built-in or a
 * plugin's), run through the executor `mergeCheckpoints` on toy checkpoints: a well-formed plugin with a
 * reference and defaults for every parameter; garbage parameters refused, naming the parameter; identical inputs
 * merge to themselves; the first model's names, shapes and dtypes (tied weights and an I64 buffer kept), floats
 * converted by `dtype`; byte-identical results on repeated runs and for any read chunk size; a missing or
 * superfluous base, a wrong number of models and a non-finite input refused before an output appears.
 * The executor merges on one thread, so there is no thread count to vary.
 */
export function runMergeMethodConformance(method: MergeMethod, conformance: MergeMethodConformanceOptions): void {
  const { describe, it, expect, beforeAll } = conformance.runner;
  const params = conformance.params ?? {};
  const count = Math.max(method.models.min, Math.min(3, method.models.max ?? 3));
  let dir = '';
  const models: string[] = [];
  const copies: string[] = [];
  const bf16: string[] = [];
  let base: string | undefined;

  describe(`merge method conformance: ${method.id}`, () => {
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), `xlt-merge-conformance-${method.id}-`));
      for (let k = 0; k < count; k++) {
        models.push(join(dir, `model-${k}.safetensors`));
        await writeToyCheckpoint(models[k]!, k + 1, { tied: true, positionOffset: 0 });
        copies.push(join(dir, `copy-${k}.safetensors`));
        await writeToyCheckpoint(copies[k]!, 1, { tied: true, positionOffset: 0 });
        bf16.push(join(dir, `bf16-${k}.safetensors`));
        await writeToyCheckpoint(bf16[k]!, k + 1, { dtype: 'BF16', tied: true, positionOffset: 0 });
      }
      if (method.base === 'required') {
        base = join(dir, 'base.safetensors');
        await writeToyCheckpoint(base, 50, { tied: true, positionOffset: 0 });
      }
      return () => rm(dir, { recursive: true, force: true });
    });
    const plan = (paths: readonly string[]) => paths.map((path, k) => ({ path, weight: k + 1 }));
    const withBase = (b = base) => (method.base === 'required' ? { base: b! } : {});
    const files = async () => (await readdir(dir)).sort();

    it('is a well-formed plugin: id, name, description, reference, model count, parameter defaults', () => {
      expect(method.id).toMatch(/^[a-z0-9]+([_-][a-z0-9]+)*$/);
      expect(method.name.length).toBeGreaterThan(2);
      expect(method.description.length).toBeGreaterThan(10);
      expect(method.reference).toMatch(/\b(19|20)\d\d\b/);
      expect(['required', 'unused']).toContain(method.base);
      expect(method.models.min).toBeGreaterThanOrEqual(1);
      if (method.models.max !== undefined) expect(method.models.max).toBeGreaterThanOrEqual(method.models.min);
      expect(typeof method.usesWeights).toBe('boolean');
      expect(method.parameters.safeParse({}).success, 'every parameter has a default').toBe(true);
    });

    it('accepts its parameters and refuses garbage, naming the parameter', () => {
      expect(method.parameters.safeParse(params).success).toBe(true);
      for (const g of ['garbage', 42, null, [1, 2], ...(conformance.invalidParams ?? [])]) {
        expect(() => parseMergeParams(method, g), `parameters ${JSON.stringify(g)}`).toThrow(`Invalid parameters for merge method "${method.id}"`);
      }
      expect(() => parseMergeParams(method, { ...params, notAParameter: 1 })).toThrow(`${method.id}.notAParameter: expected`);
    });

    if (conformance.identity !== false) {
      it('merges copies of one model to that model', async () => {
        const out = join(dir, 'identity.safetensors');
        await mergeCheckpoints(plan(copies), out, { method, params, ...withBase(copies[0]) });
        const [merged, source] = [await openCheckpoint(out), await openCheckpoint(copies[0]!)];
        try {
          for (const name of FLOAT_NAMES) expect(Array.from(await merged.readFloat32(name)), name).toEqual(Array.from(await source.readFloat32(name)));
        } finally {
          await Promise.all([merged.close(), source.close()]);
        }
      });
    }

    it("writes the first model's names, shapes and dtypes (ties and integer buffers kept); dtype converts floats only", async () => {
      const expected = toyCheckpointTensors(1, { tied: true, positionOffset: 0 }).map((t) => `${t.name} ${t.dtype} [${t.shape.join(',')}]`).sort();
      for (const dtype of [undefined, 'F64'] as const) {
        const out = join(dir, `shapes-${dtype ?? 'same'}.safetensors`);
        await mergeCheckpoints(plan(models), out, { method, params, ...withBase(), ...(dtype ? { dtype } : {}) });
        const merged = await openCheckpoint(out);
        const found = [...merged.tensors.values()].map((t) => `${t.name} ${t.dtype} [${t.shape.join(',')}]`).sort();
        const tied = merged.tensors.get('cls.predictions.decoder.weight')!;
        const embeddings = merged.tensors.get('bert.embeddings.word_embeddings.weight')!;
        const positions = new BigInt64Array((await merged.readBytes('bert.embeddings.position_ids')).slice().buffer);
        await merged.close();
        expect(found).toEqual(dtype ? expected.map((e) => e.replace(' F32 ', ` ${dtype} `)) : expected);
        expect([tied.start, tied.end]).toEqual([embeddings.start, embeddings.end]);
        expect(Array.from(positions)).toEqual([0n, 1n, 2n, 3n]);
      }
    });

    it('is deterministic and independent of the read chunk size (BF16 inputs decoded in chunks)', async () => {
      const outs = [join(dir, 'det-a.safetensors'), join(dir, 'det-b.safetensors'), join(dir, 'det-c.safetensors')];
      await mergeCheckpoints(plan(bf16), outs[0]!, { method, params, ...withBase() });
      await mergeCheckpoints(plan(bf16), outs[1]!, { method, params, ...withBase() });
      await mergeCheckpoints(plan(bf16), outs[2]!, { method, params, ...withBase(), chunkElements: 3 });
      const [a, b, c] = await Promise.all(outs.map((o) => readFile(o)));
      expect(b!.equals(a!)).toBe(true);
      expect(c!.equals(a!)).toBe(true);
    });

    it('refuses a missing or superfluous base, a wrong model count and bad parameters before writing anything', async () => {
      const before = await files();
      const out = join(dir, 'refused.safetensors');
      if (method.base === 'required') {
        await expect(mergeCheckpoints(plan(models), out, { method, params })).rejects.toThrow(`Merge method "${method.id}" needs a base model`);
      } else {
        await expect(mergeCheckpoints(plan(models), out, { method, params, base: models[0]! })).rejects.toThrow(`Merge method "${method.id}" takes no base model`);
      }
      if (method.models.min > 1) {
        await expect(mergeCheckpoints(plan(models.slice(0, method.models.min - 1)), out, { method, params, ...withBase() })).rejects.toThrow(`Merge method "${method.id}" merges`);
      }
      if (method.models.max !== undefined) {
        const extra = [...models, ...copies].slice(0, method.models.max + 1);
        await expect(mergeCheckpoints(plan(extra), out, { method, params, ...withBase() })).rejects.toThrow(`Merge method "${method.id}" merges`);
      }
      await expect(mergeCheckpoints(plan(models), out, { method, params: { ...params, notAParameter: 1 }, ...withBase() })).rejects.toThrow(`${method.id}.notAParameter`);
      expect(await files()).toEqual(before);
    });

    it('refuses a non-finite input, naming file, tensor and element, unless allowed', async () => {
      const bad = join(dir, 'nan.safetensors');
      await writeSafetensors(bad, toyCheckpointTensors(9, { tied: true, positionOffset: 0 }).map((t) => (t.name === 'classifier.bias' ? { ...t, data: new Float32Array([0, Number.NaN, 0]) } : t)));
      const paths = [bad, ...models.slice(1)];
      const out = join(dir, 'nan-out.safetensors');
      await expect(mergeCheckpoints(plan(paths), out, { method, params, ...withBase() })).rejects.toThrow(`${bad} at "classifier.bias"[1]`);
      expect((await files()).includes('nan-out.safetensors')).toBe(false);
      await mergeCheckpoints(plan(paths), out, { method, params, ...withBase(), allowNonFinite: true });
      expect((await files()).includes('nan-out.safetensors')).toBe(true);
    });
  });
}
