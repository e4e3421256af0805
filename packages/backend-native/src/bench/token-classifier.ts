/**
 * The benchmark's task head in plain JS, as `torch_encoder_step.py` has it: a linear layer to `labels` logits and
 * token-level cross-entropy that ignores padded positions. Small next to the encoder (hidden x labels per token).
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
    for (let i = 0; i < N; i++) {
      for (let c = 0; c < C; c++) {
        let s = this.bias[c]!;
        const w = c * H, x = i * H;
        for (let j = 0; j < H; j++) s += h[x + j]! * this.weight[w + j]!;
        out[i * C + c] = s;
      }
    }
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
    this.gradWeight.fill(0);
    this.gradBias.fill(0);
    const d = new Float32Array(C);
    for (let i = 0; i < N; i++) {
      const y = labels[i]!;
      if (y < 0) continue;
      let mx = -Infinity;
      for (let c = 0; c < C; c++) mx = Math.max(mx, logits[i * C + c]!);
      let z = 0;
      for (let c = 0; c < C; c++) z += Math.exp(logits[i * C + c]! - mx);
      loss += Math.log(z) + mx - logits[i * C + y]!;
      for (let c = 0; c < C; c++) d[c] = (Math.exp(logits[i * C + c]! - mx) / z - (c === y ? 1 : 0)) / count;
      for (let c = 0; c < C; c++) {
        const g = d[c]!, w = c * H, x = i * H;
        this.gradBias[c]! += g;
        for (let j = 0; j < H; j++) {
          this.gradWeight[w + j]! += g * h[x + j]!;
          dHidden[x + j]! += g * this.weight[w + j]!;
        }
      }
    }
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
