import type { Metrics } from '@xlt/plugin-api';
import { checkPredictionShape } from './predictions.js';
import { seqevalScores, tagAccuracy } from './seqeval.js';
import type { TaggedSentence, TagPrediction } from './tagged-sentence.js';

/** Words whose gold tag is not in the training label space (no model trained on it can predict it). */
export function countUnseenLabels(examples: readonly TaggedSentence[], labels: readonly string[]): number {
  const known = new Set(labels);
  let unseen = 0;
  for (const e of examples) for (const tag of e.tags) if (!known.has(tag)) unseen++;
  return unseen;
}

function bookkeeping(examples: readonly TaggedSentence[], predictions: readonly TagPrediction[], labels: readonly string[]): Metrics {
  const out: Metrics = {};
  if (labels.length > 0) out['unseen_labels'] = countUnseenLabels(examples, labels);
  if (predictions.some((p) => p.truncatedWords !== undefined)) {
    out['truncated_words'] = predictions.reduce((sum, p) => sum + (p.truncatedWords ?? 0), 0);
  }
  return out;
}

/**
 * POS scores: `accuracy`, the percentage of words (integer-id CoNLL-U words) whose tag equals the gold UPOS.
 * Adds `unseen_labels` (gold words with a tag outside `labels`, counted wrong like any other miss) when a label
 * space is given, and `truncated_words` when the predictions carry it.
 */
export function posScores(examples: readonly TaggedSentence[], predictions: readonly TagPrediction[], labels: readonly string[] = []): Metrics {
  checkPredictionShape(examples, predictions);
  const accuracy = 100 * tagAccuracy(examples.map((e) => e.tags), predictions.map((p) => p.tags));
  return { accuracy, ...bookkeeping(examples, predictions, labels) };
}

/**
 * NER scores in percent, 100 × seqeval's values: `precision`, `recall`, `f1` (default mode, micro),
 * `strict_precision`, `strict_recall`, `strict_f1` (mode='strict', scheme=IOB2), per type `precision_<TYPE>`,
 * `recall_<TYPE>`, `f1_<TYPE>` (default mode, gold ∪ predicted types), `accuracy` (token level), and the counts
 * `unseen_labels` and `truncated_words` as in {@link posScores}. Gold entities of a type the model never saw
 * (MasakhaNER's DATE after WikiANN training) count as misses.
 */
export function nerScores(examples: readonly TaggedSentence[], predictions: readonly TagPrediction[], labels: readonly string[] = []): Metrics {
  checkPredictionShape(examples, predictions);
  const gold = examples.map((e) => e.tags);
  const pred = predictions.map((p) => p.tags);
  const lenient = seqevalScores(gold, pred, 'default');
  const strict = seqevalScores(gold, pred, 'strict');
  const out: Metrics = {
    precision: 100 * lenient.precision,
    recall: 100 * lenient.recall,
    f1: 100 * lenient.f1,
    strict_precision: 100 * strict.precision,
    strict_recall: 100 * strict.recall,
    strict_f1: 100 * strict.f1,
    accuracy: 100 * tagAccuracy(gold, pred),
  };
  for (const [type, s] of Object.entries(lenient.perType)) {
    out[`precision_${type}`] = 100 * s.precision;
    out[`recall_${type}`] = 100 * s.recall;
    out[`f1_${type}`] = 100 * s.f1;
  }
  return { ...out, ...bookkeeping(examples, predictions, labels) };
}
