import type { NativeAddon } from '../addon.js';

/**
 * The benchmark's task head, as `torch_encoder_step.py` has it: a linear layer to `labels` logits and token-level
 * cross-entropy that ignores padded positions. Its GEMMs go through the addon's `gemm` (torch's head uses BLAS too).
 */
export class BenchTokenClassifier {
  readonly weight: Float32Array;
  readonly bias: Float32Array;
  readonly gradWeight: Float32Array;
  readonly gradBias: Float32Array;
  readonly #m: Float32Array;
  readonly #v: Float32Array;

  constructor(
    readonly hidden: number,
    readonly labels: number,
    rand: () => number,
    private readonly addon: NativeAddon,
  ) {
    this.weight = Float32Array.from({ length: hidden * labels }, () => (rand() * 2 - 1) * 0.035);
    this.bias = new Float32Array(labels);
    this.gradWeight = new Float32Array(hidden * labels);
    this.gradBias = new Float32Array(labels);
    this.#m = new Float32Array(hidden * labels + labels);
    this.#v = new Float32Array(hidden * labels + labels);
  }

  /** Logits of every token, `[N, labels]`. */
  logits(h: Float32Array): Float32Array {
    const H = this.hidden, C = this.labels, N = h.length / H;
    const out = new Float32Array(N * C);
    for (let i = 0; i < N; i++) out.set(this.bias, i * C);
    this.addon.gemm(false, true, N, C, H, 1, h, this.weight, 1, out);
    return out;
  }

  /** Mean cross-entropy over labelled tokens; fills the head's gradients and returns `dLoss/dHidden`. */
  lossAndBackward(h: Float32Array, labels: Int32Array): { loss: number; dHidden: Float32Array } {
    const H = this.hidden, C = this.labels, N = h.length / H;
    const logits = this.logits(h);
    let count = 0;
    for (let i = 0; i < N; i++) if (labels[i]! >= 0) count++;
    let loss = 0;
    const dHidden = new Float32Array(h.length);
    this.gradBias.fill(0);
    const d = new Float32Array(N * C);
    for (let i = 0; i < N; i++) {
      const y = labels[i]!;
      if (y < 0) continue;
      let mx = -Infinity;
      for (let c = 0; c < C; c++) mx = Math.max(mx, logits[i * C + c]!);
      let z = 0;
      for (let c = 0; c < C; c++) z += Math.exp(logits[i * C + c]! - mx);
      loss += Math.log(z) + mx - logits[i * C + y]!;
      for (let c = 0; c < C; c++) {
        const g = (Math.exp(logits[i * C + c]! - mx) / z - (c === y ? 1 : 0)) / count;
        d[i * C + c] = g;
        this.gradBias[c]! += g;
      }
    }
    this.addon.gemm(true, false, C, H, N, 1, d, h, 0, this.gradWeight);
    this.addon.gemm(false, false, N, H, C, 1, d, this.weight, 0, dHidden);
    return { loss: loss / count, dHidden };
  }

  /** AdamW on the head (decay on the weight, none on the bias). */
  adamw(lr: number, step: number, wd = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8): void {
    const bc1 = 1 - b1 ** step, bc2 = Math.sqrt(1 - b2 ** step);
    const upd = (p: Float32Array, g: Float32Array, off: number, decay: boolean) => {
      for (let i = 0; i < p.length; i++) {
        if (decay) p[i]! *= 1 - lr * wd;
        const m = (this.#m[off + i] = b1 * this.#m[off + i]! + (1 - b1) * g[i]!);
        const v = (this.#v[off + i] = b2 * this.#v[off + i]! + (1 - b2) * g[i]! * g[i]!);
        p[i]! -= (lr / bc1) * (m / (Math.sqrt(v) / bc2 + eps));
      }
    };
    upd(this.weight, this.gradWeight, 0, true);
    upd(this.bias, this.gradBias, this.weight.length, false);
  }
}
