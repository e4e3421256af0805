import { defineConfig } from 'vitest/config';
import { xltVitest } from '../../vitest.shared.js';

export default defineConfig(xltVitest(import.meta.dirname));
