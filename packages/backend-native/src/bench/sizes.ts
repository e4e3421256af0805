/** One benchmark shape, with the same meaning as the flags of `torch_encoder_step.py`. */
export interface BenchShape {
  readonly name: string;
  readonly layers: number;
  readonly hidden: number;
  readonly heads: number;
  readonly ffn: number;
  readonly vocab: number;
  readonly batch: number;
  readonly seq: number;
  readonly maxPos: number;
  readonly labels: number;
  readonly dropout: number;
}

const common = { labels: 9, dropout: 0.1, maxPos: 512 };

/** The shapes measured in this package's README: small and mid (vocab of mBERT), and the two base models. */
export const BENCH_SHAPES: Readonly<Record<string, readonly BenchShape[]>> = {
  small: [{ ...common, name: 'small', layers: 2, hidden: 128, heads: 2, ffn: 512, vocab: 119547, batch: 16, seq: 64 }],
  mid: [{ ...common, name: 'mid', layers: 6, hidden: 384, heads: 12, ffn: 1536, vocab: 119547, batch: 16, seq: 128 }],
  base: [
    { ...common, name: 'xlmr-base', layers: 12, hidden: 768, heads: 12, ffn: 3072, vocab: 250002, batch: 8, seq: 128, maxPos: 514 },
    { ...common, name: 'mbert-base', layers: 12, hidden: 768, heads: 12, ffn: 3072, vocab: 119547, batch: 8, seq: 128 },
  ],
};

/** Flags of `torch_encoder_step.py` for a shape. */
export function torchFlags(s: BenchShape): string[] {
  return ['--layers', s.layers, '--hidden', s.hidden, '--heads', s.heads, '--ffn', s.ffn, '--vocab', s.vocab, '--batch', s.batch, '--seq', s.seq, '--max-pos', s.maxPos, '--labels', s.labels, '--dropout', s.dropout].map(String);
}
