import {
  InputError,
  XltError,
  type BatchTargets,
  type DatasetSource,
  type HeadContext,
  type Metrics,
  type TaskContext,
  type TaskHead,
  type TaskPlugin,
  type Tokenizer,
} from '@xlt/plugin-api';
import { decodeAnswers } from './nbest.js';
import { createQaHead, QA_TARGETS } from './qa-head.js';
import type { QaExample } from './qa-example.js';
import { featurizeQa, type QaFeature } from './qa-features.js';
import { mlqaScores, squadScores } from './qa-metrics.js';
import { parseQaOptions, qaOptionsSchema } from './qa-options.js';
import { formatSquadPredictions, parseSquadPredictions } from './predictions.js';
import { readSquadJson, squadJsonFormat } from './squad-reader.js';

/** Which official script scores a data set, and for which language (MLQA only). */
export function resolveQaMetric(examples: readonly QaExample[], context: TaskContext): { metric: 'squad' } | { metric: 'mlqa'; language: string } {
  const { metric } = parseQaOptions(context.options);
  const language = context.language ?? examples.find((e) => e.language !== undefined)?.language;
  if (metric === 'squad') return { metric: 'squad' };
  if (metric === 'mlqa') {
    if (language === undefined) throw new XltError('The qa option metric "mlqa" needs the language of the data (set the data set\'s language).');
    return { metric: 'mlqa', language };
  }
  const allMlqa = examples.length > 0 && examples.every((e) => e.benchmark === 'mlqa');
  return allMlqa && language !== undefined ? { metric: 'mlqa', language } : { metric: 'squad' };
}

/**
 * The `qa` task: extractive question answering on SQuAD v1.1 JSON (SQuAD, XQuAD, MLQA, TyDiQA-GoldP), windows over
 * long contexts, the `qa_outputs` span head, n-best decoding and the official SQuAD / MLQA EM and F1.
 * Predictions are answer strings, one per question.
 */
export class QaTask implements TaskPlugin<QaExample, QaFeature, string> {
  readonly id = 'qa';
  readonly description = 'Extractive QA (SQuAD v1.1 JSON: SQuAD, XQuAD, MLQA, TyDiQA-GoldP), official SQuAD/MLQA EM and F1';
  readonly optionsSchema = qaOptionsSchema;
  readonly primaryMetric = 'f1';
  readonly formats = [squadJsonFormat];

  async read(source: DatasetSource, options: Record<string, unknown>): Promise<QaExample[]> {
    const { allowEmptyAnswers } = parseQaOptions(options);
    if (source.format !== undefined && source.format !== squadJsonFormat.id) {
      throw new InputError([{ file: source.path, expected: `format "${squadJsonFormat.id}" (the only one the qa task reads)`, found: JSON.stringify(source.format) }]);
    }
    return readSquadJson(source.path, { allowEmptyAnswers, ...(source.language !== undefined ? { language: source.language } : {}) });
  }

  /** Extractive QA has no label inventory. */
  labelSpace(): string[] {
    return [];
  }

  featurize(examples: readonly QaExample[], tokenizer: Tokenizer, context: TaskContext): Promise<QaFeature[]> {
    const options = parseQaOptions(context.options);
    return featurizeQa(examples, tokenizer, {
      maxLength: options.maxLength ?? context.maxLength,
      docStride: options.docStride,
      maxQueryLength: options.maxQueryLength,
    });
  }

  /** `start_positions` and `end_positions` (int32 `[B]`) and `token_mask` (float32 `[B, T]`, 1 on real tokens). */
  collate(features: readonly QaFeature[], sequenceLength: number, _context?: TaskContext): BatchTargets {
    const b = features.length;
    const start = new Int32Array(b);
    const end = new Int32Array(b);
    const mask = new Float32Array(b * sequenceLength);
    features.forEach((f, i) => {
      if (f.inputIds.length > sequenceLength) throw new XltError(`A window of ${f.inputIds.length} tokens does not fit the batch length ${sequenceLength}.`);
      start[i] = f.startPosition;
      end[i] = f.endPosition;
      mask.fill(1, i * sequenceLength, i * sequenceLength + f.inputIds.length);
    });
    return { [QA_TARGETS.start]: start, [QA_TARGETS.end]: end, [QA_TARGETS.mask]: mask };
  }

  createHead(context: HeadContext): TaskHead {
    return createQaHead(context);
  }

  decode(logits: readonly Float32Array[], features: readonly QaFeature[], examples: readonly QaExample[], context: TaskContext): string[] {
    const { nBest, maxAnswerLength } = parseQaOptions(context.options);
    return decodeAnswers(logits, features, examples, { nBest, maxAnswerLength });
  }

  /** `exact_match` and `f1` in percent, by the SQuAD v1.1 script or the MLQA one (see {@link resolveQaMetric}). */
  score(examples: readonly QaExample[], predictions: readonly string[], context: TaskContext): Metrics {
    const golds = examples.map((e) => e.answers.map((a) => a.text));
    const choice = resolveQaMetric(examples, context);
    const scores = choice.metric === 'mlqa' ? mlqaScores(golds, predictions, choice.language) : squadScores(golds, predictions);
    return { exact_match: scores.exact_match, f1: scores.f1 };
  }

  formatPredictions(predictions: readonly string[], examples: readonly QaExample[]): string {
    return formatSquadPredictions(predictions, examples);
  }

  parsePredictions(text: string, file: string, examples: readonly QaExample[]): string[] {
    return parseSquadPredictions(text, file, examples);
  }
}
