/**
 * `@xlt/averaging/testing`: the conformance suite every averaging strategy runs (built-in or third-party) and
 * its fixtures. Imports vitest, so it is for test files only.
 * @packageDocumentation
 */
export * from './strategy-conformance.js';
export * from './strategy-fixtures.js';
export * from './checkpoint-fixtures.js';
