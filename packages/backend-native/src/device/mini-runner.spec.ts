import { describe, expect, test } from 'vitest';
import { createRunner } from './mini-runner.js';

describe('the device check runner', () => {
  test('runs beforeAll before a block, collects passes and failures with messages, and fails a block whose setup threw', async () => {
    const { api, run } = createRunner();
    const order: string[] = [];
    api.describe('a', () => {
      api.beforeAll(() => void order.push('setup a'));
      api.it('passes', () => {
        order.push('test a1');
        api.expect(1 + 1).toBe(2);
        api.expect([1, { x: 2 }]).toEqual([1, { x: 2 }]);
        api.expect('backend: cuda').toMatch(/cuda/);
        api.expect(() => {
          throw new Error('boom');
        }).toThrow(/boom/);
      });
      api.it('fails', () => api.expect(0.5, 'hidden diff').toBeLessThanOrEqual(1e-4));
      api.it('rejects', async () => api.expect(Promise.resolve(1)).rejects.toThrow());
    });
    api.describe('b', () => {
      api.beforeAll(() => {
        throw new Error('no python');
      });
      api.it('never runs', () => void order.push('test b'));
    });
    const outcomes = await run();
    expect(order).toEqual(['setup a', 'test a1']);
    expect(outcomes.map((o) => [o.name, o.passed])).toEqual([['a > passes', true], ['a > fails', false], ['a > rejects', false], ['b > never runs', false]]);
    expect(outcomes[1]!.error).toBe('hidden diff: expected 0.5 to be <= 0.0001');
    expect(outcomes[2]!.error).toMatch(/resolved, expected a rejection/);
    expect(outcomes[3]!.error).toBe('beforeAll failed: no python');
  });
});
