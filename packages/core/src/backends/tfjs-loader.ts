import type * as tfjs from '@tensorflow/tfjs';

/** The TF.js namespace (`@tensorflow/tfjs`, which registers every gradient, unlike `tfjs-core` alone). */
export type Tf = typeof tfjs;

let tfPromise: Promise<Tf> | undefined;

/**
 * Imports TF.js once, lazily: the CLI starts without paying for it, and commands that never compute never load it.
 * Installs the BatchMatMul gradient with explicit transposes (see {@link registerMatMulGradient}) and silences the
 * cpu backend's "install tfjs-node" banner, which would otherwise pollute the output of commands.
 */
export function loadTf(): Promise<Tf> {
  tfPromise ??= (async () => {
    const tf = (await import('@tensorflow/tfjs')) as Tf;
    registerMatMulGradient(tf);
    // Production mode turns off TF.js's warnings, among them the cpu backend's banner on first use (it is created
    // lazily, so it cannot be patched here), and skips debug-only checks.
    tf.enableProdMode();
    return tf;
  })();
  return tfPromise;
}

let wasmPromise: Promise<{ ok: boolean; detail: string }> | undefined;

/**
 * Registers and initialises the wasm backend once. TF.js falls back to cpu silently when the `.wasm` file is
 * missing (`setBackend` returns false), so success is checked explicitly.
 */
export function initWasm(tf: Tf): Promise<{ ok: boolean; detail: string }> {
  wasmPromise ??= (async () => {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      const previous = tf.getBackend();
      const ok = await tf.setBackend('wasm');
      if (ok) registerWasmSegmentSum(tf);
      if (previous && previous !== 'wasm') await tf.setBackend(previous);
      return ok
        ? { ok: true, detail: 'TF.js wasm backend (SIMD, single thread)' }
        : { ok: false, detail: 'the TF.js wasm backend did not initialise (its .wasm file was not found)' };
    } catch (error) {
      return { ok: false, detail: `the TF.js wasm backend failed to load: ${(error as Error).message}` };
    }
  })();
  return wasmPromise;
}

/**
 * The stock BatchMatMul gradient multiplies with the transpose flags, which wasm's XNNPACK runs 12-55x slower than
 * a plain product; transposing explicitly first is mathematically the same and about 3x faster on a whole step.
 */
export function registerMatMulGradient(tf: Tf): void {
  const T = (x: tfjs.Tensor) => {
    const perm = x.shape.map((_, i) => i);
    const r = perm.length;
    [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
    return tf.transpose(x, perm);
  };
  const mm = (x: tfjs.Tensor, y: tfjs.Tensor, tx: boolean, ty: boolean) => tf.matMul(tx ? T(x) : x, ty ? T(y) : y);
  tf.registerGradient({
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as [tfjs.Tensor, tfjs.Tensor];
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const g = dy as tfjs.Tensor;
      if (!transposeA && !transposeB) return { a: () => mm(g, b, false, true), b: () => mm(a, g, true, false) };
      if (!transposeA && transposeB) return { a: () => mm(g, b, false, false), b: () => mm(g, a, true, false) };
      if (transposeA && !transposeB) return { a: () => mm(b, g, false, true), b: () => mm(a, g, false, false) };
      return { a: () => mm(b, g, true, true), b: () => mm(g, a, true, true) };
    },
  });
}

/**
 * wasm has no UnsortedSegmentSum, so `tf.gather` (used by task heads) has no gradient there. ScatterNd sums
 * duplicate indices, which is exactly a segment sum over the first axis.
 */
function registerWasmSegmentSum(tf: Tf): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  const scatter = tf.getKernel('ScatterNd', 'wasm');
  const reshape = tf.getKernel('Reshape', 'wasm');
  if (!scatter || !reshape) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, segmentIds } = inputs as unknown as { x: tfjs.TensorInfo; segmentIds: tfjs.TensorInfo };
      const { numSegments } = attrs as unknown as { numSegments: number };
      const n = segmentIds.shape.reduce((a, b) => a * b, 1);
      const rowShape = x.shape.slice(segmentIds.shape.length);
      const indices = reshape.kernelFunc({ inputs: { x: segmentIds }, backend, attrs: { shape: [n, 1] } }) as tfjs.TensorInfo;
      const updates = reshape.kernelFunc({ inputs: { x }, backend, attrs: { shape: [n, ...rowShape] } }) as tfjs.TensorInfo;
      const out = scatter.kernelFunc({ inputs: { indices, updates }, backend, attrs: { shape: [numSegments, ...rowShape] } });
      (backend as unknown as { disposeData(id: object): void }).disposeData(indices.dataId);
      (backend as unknown as { disposeData(id: object): void }).disposeData(updates.dataId);
      return out;
    },
  });
}
