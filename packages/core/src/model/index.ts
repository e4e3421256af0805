/**
 * Encoders, HF model folders and the reference TF.js training backends of `@xlt/core` (issue #3): the `bert` and
 * `xlm-roberta` providers, `loadPretrained` / `savePretrained`, `selectBackend` and `xlt encode`.
 * @packageDocumentation
 */
export { modelModule } from './model-module.js';
export { loadPretrained, readEncoderConfig, type LoadPretrainedOptions } from './load-pretrained.js';
export { savePretrained, type SavePretrainedOptions } from './save-pretrained.js';
export type { PretrainedModel } from './pretrained-model.js';
export { initEncoderParameters } from './init-parameters.js';
export { encodeCommand, encodeFile, loadFolderTokenizer, type EncodeFileOptions } from './encode-command.js';
export { BertProvider, bertProvider } from '../encoders/bert-provider.js';
export { XlmRobertaProvider, xlmRobertaProvider } from '../encoders/xlm-roberta-provider.js';
export { parseEncoderConfig, SUPPORTED_ACTIVATIONS, type EncoderConfigDefaults } from '../encoders/encoder-config.js';
export { encoderParameterShapes, poolerShapes, isNoDecayParameter } from '../encoders/parameter-shapes.js';
export { findEncoderProvider } from '../encoders/find-provider.js';
export { selectBackend, type BackendChoice, type BackendSource } from '../backends/select-backend.js';
export { TfjsTrainingBackend, tfjsBackends, tfjsCpuBackend, tfjsWasmBackend, tfjsNodeBackend, tfjsNodeGpuBackend } from '../backends/tfjs-backends.js';
export { TfjsEncoderRuntime } from '../backends/tfjs-encoder-runtime.js';
export { loadTf, initWasm, registerMatMulGradient, type Tf } from '../backends/tfjs-loader.js';
export { adamwUpdate, zerosLike } from '../backends/host-adamw.js';
