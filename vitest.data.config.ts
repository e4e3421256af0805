import { defineConfig } from 'vitest/config';
import { xltVitest } from './vitest.shared.js';

/** The data suite: tests over the real benchmark files in ../shared (`*.data.ts`). */
const base = xltVitest(import.meta.dirname, ['packages/*/src/**/*.data.ts', 'tools/src/**/*.data.ts', 'e2e/src/**/*.data.ts']);
export default defineConfig({
  ...base,
  test: { ...base.test, globalSetup: ['./tools/data-suite-setup.ts'], testTimeout: 600_000 },
});
