import { describeFound, InputError, type EncoderProvider } from '@xlt/plugin-api';

/**
 * The provider that reads a config's `model_type`. An unknown or missing type is an {@link InputError} naming the
 * file and listing every model type the registered providers read.
 */
export function findEncoderProvider(raw: unknown, file: string, providers: readonly EncoderProvider[]): EncoderProvider {
  const modelType = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>)['model_type'] : undefined;
  const provider = providers.find((p) => typeof modelType === 'string' && p.modelTypes.includes(modelType));
  if (provider) return provider;
  const known = providers.flatMap((p) => p.modelTypes.map((t) => `"${t}" (${p.id})`));
  throw new InputError([
    {
      file,
      path: 'model_type',
      expected: known.length ? `a model type with an encoder: one of ${known.join(', ')}` : 'a model type, but no encoder provider is registered',
      found: modelType === undefined ? 'nothing (the field is missing)' : describeFound(modelType),
    },
  ]);
}
