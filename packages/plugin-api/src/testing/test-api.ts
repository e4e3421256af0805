/**
 * The assertions the conformance suites make, as a structural subset of vitest's (and Jest's) `expect`, so that
 * any runner with that API drives them.
 */
export interface ConformanceAssertion {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toBeCloseTo(expected: number, digits?: number): void;
  toBeDefined(): void;
  toBeGreaterThan(expected: number | bigint): void;
  toBeGreaterThanOrEqual(expected: number | bigint): void;
  toBeLessThan(expected: number | bigint): void;
  toBeLessThanOrEqual(expected: number | bigint): void;
  toBeInstanceOf(expected: unknown): void;
  toContain(expected: unknown): void;
  toMatch(expected: string | RegExp): void;
  toThrow(expected?: string | RegExp | (new (...args: never[]) => Error)): void;
  readonly not: ConformanceAssertion;
  readonly rejects: { toThrow(expected?: string | RegExp | (new (...args: never[]) => Error)): Promise<void> };
}

/**
 * The test functions of the caller's runner: pass `{ describe, it, expect, beforeAll }` from `vitest` (or Jest).
 * The suites take them as an argument instead of importing a runner, so that installing an xlt package never
 * needs a test runner: only the test files that run a suite do, and they have one.
 */
export interface TestApi {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => unknown): void;
  beforeAll(body: () => unknown): void;
  expect(actual: unknown, message?: string): ConformanceAssertion;
}
