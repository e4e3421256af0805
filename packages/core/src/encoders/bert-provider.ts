import type { EncoderArchitecture, EncoderConfig, EncoderProvider } from '@xlt/plugin-api';
import { parseEncoderConfig } from './encoder-config.js';
import { encoderParameterShapes } from './parameter-shapes.js';

/** BERT and mBERT (`model_type: bert`): learned absolute positions `0..T-1`, two token types. */
export class BertProvider implements EncoderProvider {
  readonly id = 'bert';
  readonly description = 'BERT / mBERT encoder (HF model_type "bert", parameters under "bert.")';
  readonly modelTypes: readonly string[] = ['bert'];
  readonly parameterPrefix = 'bert.';

  parseConfig(raw: unknown, file: string): EncoderConfig {
    const config = parseEncoderConfig(raw, file, this.modelTypes, { typeVocabSize: 2, padTokenId: 0, layerNormEps: 1e-12 });
    return { ...config, architecture: this.architecture() };
  }

  /** `Bert*` classes; sequence classification over the pretrained pooler (`BertForSequenceClassification`). */
  architecture(): EncoderArchitecture {
    return { classPrefix: 'Bert', parameterPrefix: this.parameterPrefix, classificationHead: 'pooler-classifier' };
  }

  parameterShapes(config: EncoderConfig): Map<string, readonly number[]> {
    return encoderParameterShapes(config, this.parameterPrefix);
  }

  positionIds(inputIds: readonly number[]): number[] {
    return inputIds.map((_, i) => i);
  }
}

/** The shared instance bound in the model module. */
export const bertProvider: BertProvider = new BertProvider();
