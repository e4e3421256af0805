/** The merge methods, their executor, composition with strategies and the mergekit YAML reader. */
export * from './builtins.js';
export { mergeCheckpoints, type MergeOptions, type MergeResult } from './merge-checkpoints.js';
export { mergePlan, methodMerger, methodCheckpointMerger, mergeMethodsOf, type MergeSpec } from './compose.js';
export { parseMergeConfig, readMergeConfig, type MergeConfig } from './mergekit-config.js';
