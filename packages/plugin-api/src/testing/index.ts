/**
 * `@xlt/plugin-api/testing`: helpers and the conformance suites plugin packages run in their own tests (like
 * TF.js's shared backend tests). Suites register their tests through the runner functions they are given
 * ({@link TestApi}); nothing here imports a test runner.
 * @packageDocumentation
 */
export { tempDir, sharedPath } from './fixtures.js';
export { type ConformanceAssertion, type TestApi } from './test-api.js';
export { whitespaceTokenizer, type WhitespaceTokenizerOptions } from './whitespace-tokenizer.js';
export { runStrategyConformance, type StrategyConformanceOptions } from './strategy-conformance.js';
export { runBackendConformance, DEFAULT_BACKEND_TOLERANCES, BACKEND_TOLERANCES, type BackendConformanceOptions, type BackendPrecision, type BackendTolerances } from './backend-conformance.js';
export { BACKEND_REFERENCE_SCRIPT, randomBatch } from './backend-conformance-case.js';
export { conformanceRuns, conformanceContext, type TargetDevProbe } from './strategy-fixtures.js';
