import { describeFound, InputError, type InputIssue, type EncoderConfig } from '@xlt/plugin-api';

/** Feed-forward activations the encoders implement (HF `hidden_act` values). */
export const SUPPORTED_ACTIVATIONS: readonly string[] = ['gelu', 'relu', 'gelu_new', 'gelu_pytorch_tanh'];

/** Defaults HF's config classes apply when a field is absent; the structural fields have none here. */
export interface EncoderConfigDefaults {
  readonly typeVocabSize: number;
  readonly padTokenId: number;
  readonly layerNormEps: number;
}

type Kind = 'int' | 'number' | 'string';

/**
 * Validates the encoder fields of a parsed HF `config.json` shared by BERT and XLM-R. Every problem is collected
 * and reported together, each by JSON path (`hidden_size`, ...) with what was expected and found.
 */
export function parseEncoderConfig(
  raw: unknown,
  file: string,
  modelTypes: readonly string[],
  defaults: EncoderConfigDefaults,
): EncoderConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InputError([{ file, path: '', expected: 'a JSON object (an HF config.json)', found: describeFound(raw) }]);
  }
  const obj = raw as Record<string, unknown>;
  const issues: InputIssue[] = [];
  const field = <T extends number | string>(name: string, kind: Kind, fallback?: T, min = kind === 'int' ? 1 : undefined): T => {
    const value = obj[name];
    if (value === undefined || value === null) {
      if (fallback !== undefined) return fallback;
      issues.push({ file, path: name, expected: describeKind(kind, min), found: 'nothing (the field is missing)' });
      return (kind === 'string' ? '' : 0) as T;
    }
    const ok =
      kind === 'string'
        ? typeof value === 'string'
        : typeof value === 'number' && Number.isFinite(value) && (kind !== 'int' || Number.isInteger(value)) && (min === undefined || value >= min);
    if (!ok) {
      issues.push({ file, path: name, expected: describeKind(kind, min), found: describeFound(value) });
      return (kind === 'string' ? '' : 0) as T;
    }
    return value as T;
  };

  const modelType = field<string>('model_type', 'string');
  if (modelType && !modelTypes.includes(modelType)) {
    issues.push({ file, path: 'model_type', expected: `one of ${modelTypes.map((t) => `"${t}"`).join(', ')}`, found: describeFound(modelType) });
  }
  const config: EncoderConfig = {
    modelType,
    vocabSize: field('vocab_size', 'int'),
    hiddenSize: field('hidden_size', 'int'),
    numHiddenLayers: field('num_hidden_layers', 'int'),
    numAttentionHeads: field('num_attention_heads', 'int'),
    intermediateSize: field('intermediate_size', 'int'),
    hiddenAct: field('hidden_act', 'string', 'gelu'),
    hiddenDropoutProb: field('hidden_dropout_prob', 'number', 0.1, 0),
    attentionProbsDropoutProb: field('attention_probs_dropout_prob', 'number', 0.1, 0),
    maxPositionEmbeddings: field('max_position_embeddings', 'int'),
    typeVocabSize: field('type_vocab_size', 'int', defaults.typeVocabSize),
    layerNormEps: field('layer_norm_eps', 'number', defaults.layerNormEps, 0),
    padTokenId: field('pad_token_id', 'int', defaults.padTokenId, 0),
    initializerRange: field('initializer_range', 'number', 0.02, 0),
    raw: obj,
  };
  if (config.hiddenAct && !SUPPORTED_ACTIVATIONS.includes(config.hiddenAct)) {
    issues.push({ file, path: 'hidden_act', expected: `one of ${SUPPORTED_ACTIVATIONS.map((a) => `"${a}"`).join(', ')}`, found: describeFound(config.hiddenAct) });
  }
  for (const [name, p] of [['hidden_dropout_prob', config.hiddenDropoutProb], ['attention_probs_dropout_prob', config.attentionProbsDropoutProb]] as const) {
    if (p >= 1) issues.push({ file, path: name, expected: 'a probability in [0, 1)', found: describeFound(p) });
  }
  if (config.hiddenSize > 0 && config.numAttentionHeads > 0 && config.hiddenSize % config.numAttentionHeads !== 0) {
    issues.push({
      file,
      path: 'num_attention_heads',
      expected: `a divisor of hidden_size ${config.hiddenSize}`,
      found: describeFound(config.numAttentionHeads),
    });
  }
  if (config.vocabSize > 0 && config.padTokenId >= config.vocabSize) {
    issues.push({ file, path: 'pad_token_id', expected: `an id below vocab_size ${config.vocabSize}`, found: describeFound(config.padTokenId) });
  }
  const positionType = obj['position_embedding_type'];
  if (positionType !== undefined && positionType !== null && positionType !== 'absolute') {
    issues.push({ file, path: 'position_embedding_type', expected: '"absolute" (the only position embedding xlt implements)', found: describeFound(positionType) });
  }
  if (obj['is_decoder'] === true || obj['add_cross_attention'] === true) {
    issues.push({ file, path: obj['is_decoder'] === true ? 'is_decoder' : 'add_cross_attention', expected: 'false (xlt runs encoders only)', found: 'true' });
  }
  if (issues.length) throw new InputError(issues, `${file}: not a valid ${modelTypes.join('/')} encoder config.`);
  return config;
}

function describeKind(kind: Kind, min: number | undefined): string {
  if (kind === 'string') return 'a string';
  if (kind === 'int') return min === 0 ? 'a non-negative integer' : 'a positive integer';
  return min === 0 ? 'a non-negative number' : 'a number';
}
