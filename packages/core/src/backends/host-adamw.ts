import type { AdamWStep, HostTensor } from '@xlt/plugin-api';

/**
 * One PyTorch `torch.optim.AdamW` update of one parameter, in place over host arrays, in PyTorch's operation order
 * with float32 rounding after each operation (`Math.fround`), so that it agrees with `torch` to the last bits:
 * `p *= 1 - lr*wd; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g²; p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)`.
 * `decay` is false for the parameters in {@link AdamWStep.noDecay}.
 */
export function adamwUpdate(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, step: AdamWStep, decay: boolean): void {
  const f = Math.fround;
  const { learningRate: lr, beta1, beta2, epsilon } = step;
  const wd = decay ? step.weightDecay : 0;
  const keep = f(1 - lr * wd);
  const oneMinusB1 = f(1 - beta1);
  const oneMinusB2 = f(1 - beta2);
  const b1 = f(beta1);
  const b2 = f(beta2);
  const stepSize = lr / (1 - beta1 ** step.step);
  const negStep = f(-stepSize);
  const bc2Sqrt = f(Math.sqrt(1 - beta2 ** step.step));
  const eps = f(epsilon);
  for (let i = 0; i < param.length; i++) {
    const g = grad[i]!;
    const p = wd !== 0 ? f(param[i]! * keep) : param[i]!;
    const mi = f(f(m[i]! * b1) + f(g * oneMinusB1));
    const vi = f(f(v[i]! * b2) + f(f(g * g) * oneMinusB2));
    m[i] = mi;
    v[i] = vi;
    const denom = f(f(f(Math.sqrt(vi)) / bc2Sqrt) + eps);
    param[i] = f(p + f(negStep * f(mi / denom)));
  }
}

/** Zero-filled tensors of the same shapes, e.g. gradients or AdamW moments. */
export function zerosLike(tensors: ReadonlyMap<string, HostTensor>): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [name, t] of tensors) out.set(name, { shape: [...t.shape], data: new Float32Array(t.data.length) });
  return out;
}
