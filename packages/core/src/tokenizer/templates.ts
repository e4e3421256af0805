import type { Tokenizer as NativeTokenizer } from 'tokenizers';
import { XltError } from '@xlt/plugin-api';

/** One element of a special-token layout: a special token, or the place of sequence 0 or 1. */
export type TemplatePart =
  | { readonly kind: 'special'; readonly id: number; readonly typeId: number }
  | { readonly kind: 'sequence'; readonly sequence: 0 | 1; readonly typeId: number };

/** A layout and how many special tokens it adds. */
export interface Template {
  readonly parts: readonly TemplatePart[];
  readonly specialCount: number;
}

/** Layouts for one sequence and for a pair (`[CLS] A [SEP]`, `[CLS] A [SEP] B [SEP]`, `<s> A </s></s> B </s>`). */
export interface Templates {
  readonly single: Template;
  readonly pair: Template;
}

/**
 * Reads the special-token layout of a tokenizer's post-processor by encoding a probe with and without special
 * tokens, so any template (BERT, RoBERTa, custom TemplateProcessing) is followed without knowing its type.
 */
export async function readTemplates(native: NativeTokenizer, file: string): Promise<Templates> {
  const [single, pair] = await Promise.all([native.encode('a', null), native.encode('a', 'a')]);
  return { single: layout(single, file), pair: layout(pair, file) };
}

function layout(
  encoding: { getIds(): number[]; getTypeIds(): number[]; getSpecialTokensMask(): number[]; getSequenceIds(): (number | null | undefined)[] },
  file: string,
): Template {
  const ids = encoding.getIds();
  const types = encoding.getTypeIds();
  const special = encoding.getSpecialTokensMask();
  const sequences = encoding.getSequenceIds();
  const parts: TemplatePart[] = [];
  let specialCount = 0;
  ids.forEach((id, i) => {
    if (special[i] === 1) {
      parts.push({ kind: 'special', id, typeId: types[i]! });
      specialCount++;
      return;
    }
    const sequence = sequences[i];
    if (sequence !== 0 && sequence !== 1) {
      throw new XltError(`Tokenizer ${file}: its post-processor gives a token without a sequence id; xlt cannot follow that template.`);
    }
    const last = parts.at(-1);
    if (!(last?.kind === 'sequence' && last.sequence === sequence)) parts.push({ kind: 'sequence', sequence, typeId: types[i]! });
  });
  const order = parts.filter((p) => p.kind === 'sequence').map((p) => (p as { sequence: number }).sequence);
  if (order.some((s, i) => s !== i)) {
    throw new XltError(`Tokenizer ${file}: its post-processor puts the sequences in the order ${order.join(', ')}; xlt expects 0 then 1.`);
  }
  return { parts, specialCount };
}
