import { XltError, type TaskPlugin } from '@xlt/plugin-api';
import { z } from 'zod';
import { accuracy } from './accuracy.js';
import { NLI_LABELS, type NliLabel } from './labels.js';
import type { NliExample } from './nli-example.js';
import { collateNli, featurizeNli, type NliFeature } from './nli-feature.js';
import { createNliHead } from './nli-head.js';
import { formatNliPredictions, parseNliPredictions } from './predictions.js';
import { NLI_FORMATS, readNli } from './read-nli.js';

/** Options of the NLI task in an experiment config. */
export const nliOptionsSchema = z.object({
  /** Dropout before the classifier; default the encoder config's `classifier_dropout`, else `hidden_dropout_prob`. */
  classifierDropout: z.number().min(0).max(1).optional(),
});

/** Index of the largest value (the first on ties, as `torch.argmax`). */
function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/**
 * Natural language inference (XNLI, AmericasNLI, SNLI, JSONL): sentence-pair classification into entailment,
 * neutral, contradiction, HF's sequence-classification head, mean cross-entropy, argmax, accuracy in percent.
 */
export const nliTask: TaskPlugin<NliExample, NliFeature, NliLabel> = {
  id: 'nli',
  description: 'Natural language inference (XNLI, AmericasNLI, SNLI, JSONL): 3-way sentence-pair classification, accuracy',
  optionsSchema: nliOptionsSchema,
  primaryMetric: 'accuracy',
  formats: NLI_FORMATS,
  read: (source) => readNli(source),
  labelSpace: () => [...NLI_LABELS],
  featurize: featurizeNli,
  collate: (features) => collateNli(features),
  createHead: createNliHead,
  decode(logits, features, examples, context) {
    const predictions: (NliLabel | undefined)[] = new Array(examples.length);
    features.forEach((feature, row) => {
      // One feature per example; should several ever share one, the first decides.
      if (predictions[feature.exampleIndex] === undefined) {
        predictions[feature.exampleIndex] = context.labels[argmax(logits[row]!)] as NliLabel;
      }
    });
    const missing = predictions.findIndex((p) => p === undefined);
    if (missing >= 0 || predictions.length !== examples.length) {
      throw new XltError(`No logits for example ${missing} of ${examples.length}: every example needs a feature to decode.`);
    }
    return predictions as NliLabel[];
  },
  score: (examples, predictions) => ({ accuracy: accuracy(examples.map((e) => e.label), predictions) }),
  formatPredictions: (predictions) => formatNliPredictions(predictions),
  parsePredictions: (text, file, examples) => parseNliPredictions(text, file, examples.length),
};
