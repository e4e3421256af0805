/**
 * The safetensors format: validated positioned reads, streaming atomic writes, HF sharded checkpoints and
 * F16/BF16 conversions. Every tensor file xlt reads or writes goes through here.
 * @packageDocumentation
 */
export * from './dtype.js';
export * from './float-convert.js';
export * from './header.js';
export * from './file.js';
export * from './writer.js';
export * from './checkpoint.js';
export * from './sharded-writer.js';
