import { describe, expect, it } from 'vitest';
import { gridSchema } from '../config/experiment-schema.js';
import { expandGrid, runKey } from './grid.js';

describe('the grid', () => {
  it('takes every schedule the trainer has (transformers names) as an axis, and names runs by it', () => {
    const grid = gridSchema.parse({ learningRate: [1e-4], schedule: ['linear', 'cosine', 'polynomial', 'constant'], seeds: [1] });
    const keys = expandGrid(grid).map((p) => runKey(p));
    expect(keys.map((k) => /sched=([a-z]+)/.exec(k)?.[1])).toEqual(['linear', 'cosine', 'polynomial', 'constant']);
    const wrong = gridSchema.safeParse({ schedule: ['exponential'] });
    expect(wrong.success).toBe(false);
    expect(wrong.error!.issues[0]!.path).toEqual(['schedule', 0]);
  });
});
