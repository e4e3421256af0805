import type * as tfjs from '@tensorflow/tfjs';
import type { BatchTargets, TaskHead } from '@xlt/plugin-api';

/** Head parameters on the host, by HF name. */
export type HeadParameters = Record<string, Float32Array>;

/**
 * The head's logits for `hidden`: a plain call of {@link TaskHead.forward}, passing `training` and the step's
 * `dropoutSeed` through (every head takes the seed, so dropout masks repeat a run exactly; heads without dropout
 * ignore it). Prediction calls it directly; training reaches it through {@link headLossAndGradients}.
 */
export function headForward(
  tf: typeof tfjs,
  head: TaskHead,
  hidden: tfjs.Tensor3D,
  params: Readonly<Record<string, tfjs.Tensor>>,
  training: boolean,
  dropoutSeed?: number,
): tfjs.Tensor {
  return head.forward(tf, hidden, params, training, dropoutSeed);
}

/** Loss of one micro-batch (unscaled) and its gradients with respect to the hidden states and the head parameters. */
export interface HeadGradients {
  readonly loss: number;
  readonly dHidden: Float32Array;
  /** Absent when the head is frozen. */
  readonly dParams?: HeadParameters;
}

/**
 * Loss and gradients of the head over the encoder output `hidden` (`[B, T, H]`), with the head in training mode
 * (dropout on, masks from `options.dropoutSeed`): `tf.valueAndGrads` with respect to the hidden states (for
 * `EncoderRuntime.backward`) and, unless frozen, the head parameters.
 */
export function headLossAndGradients(
  tf: typeof tfjs,
  head: TaskHead,
  params: HeadParameters,
  hidden: Float32Array,
  shape: readonly [number, number, number],
  targets: BatchTargets,
  options: { readonly frozen: boolean; readonly dropoutSeed: number },
): HeadGradients {
  const names = Object.keys(head.parameters);
  return tf.tidy(() => {
    const h = tf.tensor3d(hidden, [...shape]);
    const tensors = names.map((n) => tf.tensor(params[n]!, [...head.parameters[n]!], 'float32'));
    const loss = (x: tfjs.Tensor, ...ps: tfjs.Tensor[]): tfjs.Scalar => {
      const byName = Object.fromEntries(names.map((n, i) => [n, options.frozen ? tensors[i]! : ps[i]!]));
      return head.loss(tf, headForward(tf, head, x as tfjs.Tensor3D, byName, true, options.dropoutSeed), targets);
    };
    const inputs = options.frozen ? [h] : [h, ...tensors];
    const { value, grads } = tf.valueAndGrads(loss as (...xs: tfjs.Tensor[]) => tfjs.Scalar)(inputs);
    const out: HeadGradients = {
      loss: value.dataSync()[0]!,
      dHidden: new Float32Array(grads[0]!.dataSync()),
      dParams: options.frozen ? undefined : Object.fromEntries(names.map((n, i) => [n, new Float32Array(grads[i + 1]!.dataSync())])),
    };
    return out as unknown as tfjs.TensorContainer;
  }) as unknown as HeadGradients;
}
