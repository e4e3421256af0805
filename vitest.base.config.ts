import { defineConfig } from 'vitest/config';
import { xltVitest } from './vitest.shared.js';

/** Base-size model checks (issue #9): minutes of CPU and several GB of memory, so not part of `npm test`. */
const base = xltVitest(import.meta.dirname, ['e2e/src/**/*.base.ts']);
export default defineConfig({ ...base, test: { ...base.test, testTimeout: 1_800_000 } });
