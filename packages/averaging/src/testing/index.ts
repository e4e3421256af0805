/**
 * `@xlt/averaging/testing`: the conformance suite every averaging strategy runs (built-in or third-party) and
 * its fixtures. The suite registers its tests through the runner functions it is given; it imports no runner.
 * @packageDocumentation
 */
export * from './strategy-conformance.js';
export * from './strategy-fixtures.js';
export * from './checkpoint-fixtures.js';
