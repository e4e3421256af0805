import { InputError } from '@xlt/plugin-api';

/** The {@link InputError} that `fn` throws; any other outcome fails the test. */
export function errorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}
