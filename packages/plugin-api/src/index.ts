/**
 * `@xlt/plugin-api`: what a plugin package builds on, and nothing heavy. The extension points (each a symbol plus
 * an interface of the same name), the dependency-injected {@link Engine} and its registries, errors that name the
 * file and path, atomic file writes, seeded randomness, CLI flag parsers and safetensors I/O. No TF.js runtime, no
 * tokenizers binary: `@tensorflow/tfjs` is an optional peer, used here only for the types of task heads.
 * @packageDocumentation
 */
import 'reflect-metadata';

export { XltError, formatIssue, InputError, describeFound, type InputIssue } from './errors.js';
export { type Plugin } from './plugins/plugin.js';
export {
  TaskPlugin,
  type DatasetSource,
  type DatasetFormat,
  type Feature,
  type BatchTargets,
  type HeadContext,
  type TaskHead,
  type Metrics,
  type TaskContext,
} from './plugins/task.js';
export { TokenizerProvider, type Encoding, type EncodeOptions, type Tokenizer } from './plugins/tokenizer.js';
export { TOKENIZER_FILE_NAMES } from './plugins/tokenizer-files.js';
export {
  EncoderProvider,
  type HostTensor,
  type NamedTensors,
  type ClassificationHeadStyle,
  type EncoderArchitecture,
  type EncoderConfig,
} from './plugins/encoder.js';
export {
  TrainingBackend,
  type BackendProbe,
  type EncodedBatch,
  type AdamWStep,
  type EncoderRuntime,
} from './plugins/backend.js';
export { Trainer } from './plugins/trainer.js';
export {
  AveragingStrategy,
  type CheckpointInfo,
  type RunInfo,
  type WeightedCheckpoint,
  type StrategyContext,
} from './plugins/averaging.js';
export { CheckpointMerger, type MergeContext } from './plugins/merger.js';
export { MergeMethod, type MergeTensorInputs, type MergeTensorValues } from './plugins/merge-method.js';
export { ResultsSink, type ResultRecord } from './plugins/results.js';
export { CliCommand } from './engine/command.js';
export { DuplicatePluginError, UnknownPluginError, PluginRegistry } from './engine/registry.js';
export { Engine, createEngine } from './engine/engine.js';
export { isGzip, readBytes, readText, tempPathFor, namingPath, withPath, writeFileAtomic, withAtomicFile } from './util/files.js';
export { seededRandom, shuffled, normalSampler, normalArray } from './util/random.js';
export { mix32, dropoutSite, dropoutSiteKey, dropoutBits, dropoutThreshold, dropoutScale, dropoutMask } from './util/dropout-mask.js';
export { positiveInt, nonNegativeInt, integer, positiveNumber, oneOf, matching, type FlagParser } from './cli/flag-parsers.js';
export { parseKeyValues } from './cli/key-values.js';
export { formatPath, zodIssues } from './config/issues.js';
export { parseLocated, readLocated, type LocatedDocument } from './config/document.js';
export {
  DTYPE_SIZES,
  SAFETENSORS_DTYPES,
  isSafetensorsDtype,
  isFloatDtype,
  elementCount,
  type SafetensorsDtype,
  type FloatDtype,
} from './safetensors/dtype.js';
export {
  float16Table,
  bfloat16Table,
  f16BitsToNumber,
  bf16BitsToNumber,
  f32BitsToF16Bits,
  f32BitsToBf16Bits,
  numberToF16Bits,
  numberToBf16Bits,
  decodeFloat64,
  decodeFloat32,
  encodeFloats,
} from './safetensors/float-convert.js';
export {
  MAX_HEADER_BYTES,
  headerLength,
  parseHeader,
  encodeHeader,
  type TensorInfo,
  type ParsedHeader,
  type HeaderEntry,
} from './safetensors/header.js';
export { SafetensorsFile } from './safetensors/file.js';
export {
  tensorByteLength,
  tensorBytes,
  layoutTensors,
  writeTensorData,
  writeSafetensors,
  type TensorData,
  type TensorDataSource,
  type TensorToWrite,
  type PlacedTensor,
  type WriteSafetensorsOptions,
} from './safetensors/writer.js';
export {
  SAFETENSORS_FILE,
  SAFETENSORS_INDEX_FILE,
  openCheckpoint,
  type CheckpointTensor,
  type StoredTensor,
  type TensorCheckpoint,
  type SafetensorsCheckpoint,
} from './safetensors/checkpoint.js';
export {
  writeShardedSafetensors,
  type ShardedWriteOptions,
  type ShardedWriteResult,
} from './safetensors/sharded-writer.js';
