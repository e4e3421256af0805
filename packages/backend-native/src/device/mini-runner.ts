import { isDeepStrictEqual } from 'node:util';
import type { ConformanceAssertion, TestApi } from '@xlt/plugin-api/testing';

/** The outcome of one test. */
export interface TestOutcome {
  readonly name: string;
  readonly passed: boolean;
  readonly error?: string;
}

class AssertionFailure extends Error {}

function show(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x);
  try {
    return JSON.stringify(x) ?? String(x);
  } catch {
    return String(x);
  }
}

function assertion(actual: unknown, message: string | undefined, negate: boolean): ConformanceAssertion {
  const check = (ok: boolean, what: string) => {
    if (ok === negate) throw new AssertionFailure(`${message ? `${message}: ` : ''}expected ${show(actual)} ${negate ? 'not ' : ''}${what}`);
  };
  const thrown = (e: unknown, expected?: string | RegExp | (new (...args: never[]) => Error)) => {
    if (expected === undefined) return true;
    if (typeof expected === 'string') return String((e as Error)?.message).includes(expected);
    if (expected instanceof RegExp) return expected.test(String((e as Error)?.message));
    return e instanceof expected;
  };
  const self: ConformanceAssertion = {
    toBe: (e) => check(Object.is(actual, e), `to be ${show(e)}`),
    toEqual: (e) => check(isDeepStrictEqual(actual, e), `to equal ${show(e)}`),
    toBeCloseTo: (e, digits = 2) => check(Math.abs((actual as number) - e) < 10 ** -digits / 2, `to be close to ${e}`),
    toBeDefined: () => check(actual !== undefined, 'to be defined'),
    toBeGreaterThan: (e) => check((actual as number) > e, `to be greater than ${e}`),
    toBeGreaterThanOrEqual: (e) => check((actual as number) >= e, `to be >= ${e}`),
    toBeLessThan: (e) => check((actual as number) < e, `to be less than ${e}`),
    toBeLessThanOrEqual: (e) => check((actual as number) <= e, `to be <= ${e}`),
    toBeInstanceOf: (e) => check(actual instanceof (e as new () => unknown), 'to be an instance'),
    toContain: (e) => check((actual as { includes(x: unknown): boolean }).includes(e), `to contain ${show(e)}`),
    toMatch: (e) => check(typeof e === 'string' ? String(actual).includes(e) : e.test(String(actual)), `to match ${e}`),
    toThrow: (e) => {
      let error: unknown;
      let threw = false;
      try {
        (actual as () => unknown)();
      } catch (x) {
        threw = true;
        error = x;
      }
      check(threw && thrown(error, e), `to throw ${e ?? ''}`);
    },
    get not() {
      return assertion(actual, message, !negate);
    },
    rejects: {
      toThrow: async (e) => {
        try {
          await (actual as Promise<unknown>);
        } catch (x) {
          if (thrown(x, e) !== negate) return;
          throw new AssertionFailure(`${message ? `${message}: ` : ''}rejected with ${String((x as Error)?.message)}, expected ${e}`);
        }
        throw new AssertionFailure(`${message ? `${message}: ` : ''}resolved, expected a rejection`);
      },
    },
  };
  return self;
}

/**
 * A small test runner with the {@link TestApi} that plugin-api's conformance suites take, for machines that have
 * Node but no node_modules (the GPU machine of the device check): tests run in order, `beforeAll` of each
 * describe block before its tests, and every failure is collected with its message.
 */
export function createRunner(): { api: TestApi; run(onResult?: (o: TestOutcome) => void): Promise<TestOutcome[]> } {
  interface Block {
    name: string;
    before: (() => unknown)[];
    items: ({ kind: 'test'; name: string; body: () => unknown } | { kind: 'block'; block: Block })[];
  }
  const root: Block = { name: '', before: [], items: [] };
  let current = root;
  const api: TestApi = {
    describe(name, body) {
      const block: Block = { name, before: [], items: [] };
      current.items.push({ kind: 'block', block });
      const outer = current;
      current = block;
      try {
        body();
      } finally {
        current = outer;
      }
    },
    it(name, body) {
      current.items.push({ kind: 'test', name, body });
    },
    beforeAll(body) {
      current.before.push(body);
    },
    expect: (actual, message) => assertion(actual, message, false),
  };
  const run = async (onResult?: (o: TestOutcome) => void): Promise<TestOutcome[]> => {
    const outcomes: TestOutcome[] = [];
    const visit = async (block: Block, path: string[], failedSetup: string | undefined): Promise<void> => {
      let setupError = failedSetup;
      if (!setupError) {
        for (const b of block.before) {
          try {
            await b();
          } catch (e) {
            setupError = `beforeAll failed: ${(e as Error).message}`;
            break;
          }
        }
      }
      for (const item of block.items) {
        if (item.kind === 'block') {
          await visit(item.block, [...path, item.block.name], setupError);
          continue;
        }
        const name = [...path, item.name].filter(Boolean).join(' > ');
        let outcome: TestOutcome;
        if (setupError) outcome = { name, passed: false, error: setupError };
        else {
          try {
            await item.body();
            outcome = { name, passed: true };
          } catch (e) {
            outcome = { name, passed: false, error: (e as Error).message };
          }
        }
        outcomes.push(outcome);
        onResult?.(outcome);
      }
    };
    await visit(root, [], undefined);
    return outcomes;
  };
  return { api, run };
}
