/**
 * `@xlt/core/testing`: helpers and conformance suites that plugin packages run in their own tests
 * (like TF.js's shared backend tests). Imports vitest, so it is for test files only.
 * @packageDocumentation
 */
export * from './fixtures.js';
export * from './whitespace-tokenizer.js';
export * from './task-conformance.js';
