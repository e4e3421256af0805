import { XltError, type EncoderConfig, type EncoderProvider, type NamedTensors } from '@xlt/plugin-api';

/** Where one named parameter lives in the native arena (offsets and sizes in floats). */
export interface ArenaSlot {
  readonly offset: number;
  readonly size: number;
  readonly shape: readonly number[];
}

/** Every parameter's slot, in the provider's order, and the offsets the addon's encoder reads. */
export interface ArenaLayout {
  readonly total: number;
  readonly slots: ReadonlyMap<string, ArenaSlot>;
  /** 5 embedding offsets (word, position, type, LN weight, LN bias), then 16 per layer (see `native/encoder.h`). */
  readonly roles: Float64Array;
}

const EMBEDDING_ROLES = ['word_embeddings.weight', 'position_embeddings.weight', 'token_type_embeddings.weight', 'LayerNorm.weight', 'LayerNorm.bias'];
const LAYER_ROLES = [
  'attention.self.query.weight', 'attention.self.query.bias', 'attention.self.key.weight', 'attention.self.key.bias',
  'attention.self.value.weight', 'attention.self.value.bias', 'attention.output.dense.weight', 'attention.output.dense.bias',
  'attention.output.LayerNorm.weight', 'attention.output.LayerNorm.bias', 'intermediate.dense.weight', 'intermediate.dense.bias',
  'output.dense.weight', 'output.dense.bias', 'output.LayerNorm.weight', 'output.LayerNorm.bias',
];

/**
 * Lays the provider's parameters out in one arena (each tensor 16-float aligned) and finds the ones the encoder
 * computes with by their HF names. Parameters it does not use (the pooler) still get a slot, so they are kept,
 * saved and updated like on the other backends.
 */
export function arenaLayout(config: EncoderConfig, provider: EncoderProvider): ArenaLayout {
  const shapes = provider.parameterShapes(config);
  const slots = new Map<string, ArenaSlot>();
  let total = 0;
  for (const [name, shape] of shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    slots.set(name, { offset: total, size, shape: [...shape] });
    total += Math.ceil(size / 16) * 16;
  }
  const p = provider.parameterPrefix;
  const names = [
    ...EMBEDDING_ROLES.map((r) => `${p}embeddings.${r}`),
    ...Array.from({ length: config.numHiddenLayers }, (_, i) => LAYER_ROLES.map((r) => `${p}encoder.layer.${i}.${r}`)).flat(),
  ];
  const missing = names.filter((n) => !slots.has(n));
  if (missing.length > 0) {
    throw new XltError(`native backend: encoder provider '${provider.id}' lacks parameters the BERT encoder needs: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
  }
  return { total, slots, roles: Float64Array.from(names, (n) => slots.get(n)!.offset) };
}

/** Named Float32Array views into one arena buffer laid out by `layout` (no copy). */
export function arenaViews(buffer: ArrayBuffer, layout: ArenaLayout): NamedTensors {
  const out: NamedTensors = new Map();
  for (const [name, slot] of layout.slots) out.set(name, { shape: slot.shape, data: new Float32Array(buffer, slot.offset * 4, slot.size) });
  return out;
}

/** Copies every tensor of `target` from `source`, checking names and shapes; errors start with `what`. */
export function copyTensors(target: NamedTensors, source: NamedTensors, what: string): void {
  for (const [name, t] of target) {
    const s = source.get(name);
    if (!s) throw new XltError(`${what} lacks '${name}'`);
    if (s.data.length !== t.data.length || s.shape.join(',') !== t.shape.join(',')) {
      throw new XltError(`${what} '${name}' has shape [${s.shape.join(', ')}], expected [${t.shape.join(', ')}]`);
    }
    t.data.set(s.data);
  }
}

/** The addon's AdamW segments: (offset, length, decay 0/1) per parameter, in layout order. */
export function adamwSegments(layout: ArenaLayout, noDecay: ReadonlySet<string>): Float64Array {
  const data = new Float64Array(layout.slots.size * 3);
  let i = 0;
  for (const [name, slot] of layout.slots) {
    data[i++] = slot.offset;
    data[i++] = slot.size;
    data[i++] = noDecay.has(name) ? 0 : 1;
  }
  return data;
}
