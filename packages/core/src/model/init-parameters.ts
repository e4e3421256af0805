import { poolerShapes } from '../encoders/parameter-shapes.js';
import {
  type EncoderConfig,
  type EncoderProvider,
  type NamedTensors,
  normalSampler,
  seededRandom,
} from '@xlt/plugin-api';


/**
 * Random encoder parameters as HF's `_init_weights` draws them: weights and embeddings from
 * normal(0, `initializer_range`), LayerNorm weights 1 and biases 0, linear biases 0, and the padding rows of
 * embeddings with a `padding_idx` zeroed. For tiny random test models and from-scratch runs; seeded.
 * With `pooler`, the `<prefix>pooler.dense.*` tensors are included.
 */
export function initEncoderParameters(config: EncoderConfig, provider: EncoderProvider, seed: number, options: { pooler?: boolean } = {}): NamedTensors {
  const normal = normalSampler(seededRandom(seed));
  const std = config.initializerRange;
  const shapes = new Map(provider.parameterShapes(config));
  if (options.pooler) for (const [n, s] of poolerShapes(config, provider.parameterPrefix)) shapes.set(n, s);
  const out: NamedTensors = new Map();
  const H = config.hiddenSize;
  for (const [name, shape] of shapes) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name.includes('LayerNorm.weight')) data.fill(1);
    else if (name.endsWith('.weight')) for (let i = 0; i < data.length; i++) data[i] = normal() * std;
    if (name.endsWith('word_embeddings.weight')) data.fill(0, config.padTokenId * H, (config.padTokenId + 1) * H);
    const positionPad = (provider as { positionPaddingIdx?: (c: EncoderConfig) => number | undefined }).positionPaddingIdx?.(config);
    if (name.endsWith('position_embeddings.weight') && positionPad !== undefined) data.fill(0, positionPad * H, (positionPad + 1) * H);
    out.set(name, { shape: [...shape], data });
  }
  return out;
}
