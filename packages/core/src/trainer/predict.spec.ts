import { describe, expect, it } from 'vitest';
import { XltError, type EncoderRuntime, type EncoderProvider, type Feature, type TaskHead } from '@xlt/plugin-api';
import { predict } from './predict.js';

// Every collaborator fails loudly if reached, so a missing guard shows as a wrong error, not only as a hang.
const unreachable = (): never => {
  throw new Error('predict ran a batch');
};
const runtime = { config: { hiddenSize: 4 }, forward: unreachable } as unknown as EncoderRuntime;
const head = { parameters: {} } as unknown as TaskHead;
const provider = { positionIds: unreachable } as unknown as EncoderProvider;
const features = [{ inputIds: [1, 2, 3] }] as unknown as Feature[];

describe('predict', () => {
  it.each([0, -1, 1.5, Number.NaN])('refuses batch size %s instead of looping forever', { timeout: 5_000 }, async (batchSize) => {
    const result = predict(runtime, head, {}, features, batchSize, provider);
    await expect(result).rejects.toBeInstanceOf(XltError);
    await expect(result).rejects.toThrow(`Prediction batch size must be a whole number >= 1, found ${batchSize}.`);
  });
});
