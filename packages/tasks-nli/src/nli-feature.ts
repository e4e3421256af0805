import { XltError, type Feature, type TaskContext, type Tokenizer } from '@xlt/plugin-api';
import type { NliExample } from './nli-example.js';

/** One encoded premise–hypothesis pair and the index of its gold label in the label space. */
export interface NliFeature extends Feature {
  readonly label: number;
}

/**
 * Encodes each pair as `[CLS] premise [SEP] hypothesis [SEP]` (`<s> … </s></s> … </s>` for XLM-R, as the
 * tokenizer defines), cut to `maxLength` with `longest_first` as HF's `run_xnli.py` does: one feature per example.
 */
export async function featurizeNli(examples: readonly NliExample[], tokenizer: Tokenizer, context: TaskContext): Promise<NliFeature[]> {
  const features: NliFeature[] = [];
  for (let exampleIndex = 0; exampleIndex < examples.length; exampleIndex++) {
    const example = examples[exampleIndex]!;
    const label = context.labels.indexOf(example.label);
    if (label < 0) {
      throw new XltError(`${example.file}:${example.line}: label "${example.label}" is not in the label space (${context.labels.join(', ')}).`);
    }
    const [encoding] = await tokenizer.encode(example.premise, example.hypothesis, { maxLength: context.maxLength, truncation: 'longest_first' });
    features.push({ exampleIndex, inputIds: encoding!.ids, tokenTypeIds: encoding!.typeIds, label });
  }
  return features;
}

/** The labels of a batch as int32 `[B]`. */
export function collateNli(features: readonly NliFeature[]): { labels: Int32Array } {
  return { labels: Int32Array.from(features, (f) => f.label) };
}
