import { defineConfig } from 'vitest/config';
import { xltVitest } from './vitest.shared.js';

/**
 * The fault suite (`npm run test:fault`, `*.fault.ts`): real `xlt` processes against a full disk (a small tmpfs),
 * read-only folders, `kill -9` at random points, two processes on one folder, and generated malformed inputs for
 * every reader, config and flag. It mounts file systems, so the npm script runs it in its own mount namespace.
 */
const base = xltVitest(import.meta.dirname, ['e2e/src/fault/**/*.fault.ts']);
export default defineConfig({ ...base, test: { ...base.test, testTimeout: 300_000, hookTimeout: 300_000, fileParallelism: false } });
