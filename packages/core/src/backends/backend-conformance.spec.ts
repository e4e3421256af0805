import { beforeAll, describe, expect, it } from 'vitest';
import { runBackendConformance } from '@xlt/plugin-api/testing';
import { bertProvider } from '../encoders/bert-provider.js';
import { xlmRobertaProvider } from '../encoders/xlm-roberta-provider.js';
import { tfjsCpuBackend, tfjsWasmBackend } from './tfjs-backends.js';

/**
 * The shared backend conformance suite (plugin-api's PyTorch reference, `reference/backend_reference.py`) on the two
 * TF.js backends that run everywhere. Needs python3 with torch and numpy (`XLT_PYTHON` to choose one); fails, never
 * skips, without them. `XLT_DEBUG=1` prints the measured differences.
 */
const log = process.env['XLT_DEBUG'] ? (line: string) => console.info(line) : undefined;
for (const backend of [tfjsCpuBackend, tfjsWasmBackend]) {
  runBackendConformance({ runner: { describe, it, expect, beforeAll }, backend, providers: [bertProvider, xlmRobertaProvider], ...(log ? { log } : {}) });
}
