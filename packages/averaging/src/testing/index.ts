/**
 * `@xlt/averaging/testing`: checkpoint fixtures for averaging tests (small safetensors checkpoints and runs) and
 * the merge-method conformance suite. The strategy conformance suite itself is in `@xlt/plugin-api/testing`.
 * @packageDocumentation
 */
export {
  TOY_SHAPES,
  toyCheckpointTensors,
  writeToyCheckpoint,
  writeToyModelFolder,
  type ToyCheckpointOptions,
} from './checkpoint-fixtures.js';
export { runMergeMethodConformance, type MergeMethodConformanceOptions } from './merge-method-conformance.js';
