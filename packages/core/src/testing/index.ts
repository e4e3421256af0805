/**
 * `@xlt/core/testing`: helpers and conformance suites that plugin packages run in their own tests
 * (like TF.js's shared backend tests). The suites register their tests through the runner functions they are
 * given (`TestApi`); nothing here imports a test runner.
 * @packageDocumentation
 */
export * from './fixtures.js';
export * from './whitespace-tokenizer.js';
export * from './task-conformance.js';
export * from './test-api.js';
