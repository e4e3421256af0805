import { InputError, type EncoderArchitecture, type EncoderConfig, type EncoderProvider } from '@xlt/plugin-api';
import { parseEncoderConfig } from './encoder-config.js';
import { encoderParameterShapes } from './parameter-shapes.js';

/**
 * XLM-R and RoBERTa (`model_type: xlm-roberta` or `roberta`). Positions count from `pad_token_id + 1` over the
 * non-pad tokens and pads get `pad_token_id`, as HF's `create_position_ids_from_input_ids`; so
 * `max_position_embeddings` is 514 for 512 tokens.
 */
export class XlmRobertaProvider implements EncoderProvider {
  readonly id = 'xlm-roberta';
  readonly description = 'XLM-R / RoBERTa encoder (HF model_type "xlm-roberta" or "roberta", parameters under "roberta.")';
  readonly modelTypes: readonly string[] = ['xlm-roberta', 'roberta'];
  readonly parameterPrefix = 'roberta.';

  parseConfig(raw: unknown, file: string): EncoderConfig {
    const config = parseEncoderConfig(raw, file, this.modelTypes, { typeVocabSize: 1, padTokenId: 1, layerNormEps: 1e-5 });
    if (config.maxPositionEmbeddings <= config.padTokenId + 1) {
      throw new InputError([
        { file, path: 'max_position_embeddings', expected: `more than pad_token_id + 1 = ${config.padTokenId + 1} (positions start after the pad id)`, found: String(config.maxPositionEmbeddings) },
      ]);
    }
    return { ...config, architecture: this.architecture(config.modelType) };
  }

  /**
   * `XLMRoberta*` classes for `xlm-roberta`, `Roberta*` for `roberta`; both classify with `RobertaClassificationHead`
   * (`classifier.dense` + `classifier.out_proj`), not the pooler.
   */
  architecture(modelType: string): EncoderArchitecture {
    const classPrefix = modelType === 'roberta' ? 'Roberta' : 'XLMRoberta';
    return { classPrefix, parameterPrefix: this.parameterPrefix, classificationHead: 'dense-out-proj' };
  }

  parameterShapes(config: EncoderConfig): Map<string, readonly number[]> {
    return encoderParameterShapes(config, this.parameterPrefix);
  }

  /** RoBERTa's position embedding has `padding_idx = pad_token_id`: that row gets no gradient. */
  positionPaddingIdx(config: EncoderConfig): number {
    return config.padTokenId;
  }

  positionIds(inputIds: readonly number[], config: EncoderConfig): number[] {
    const pad = config.padTokenId;
    let count = 0;
    return inputIds.map((id) => (id === pad ? pad : ++count + pad));
  }
}

/** The shared instance bound in the model module. */
export const xlmRobertaProvider: XlmRobertaProvider = new XlmRobertaProvider();
