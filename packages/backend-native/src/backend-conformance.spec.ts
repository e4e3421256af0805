import { beforeAll, describe, expect, it } from 'vitest';
import { bertProvider, xlmRobertaProvider } from '@xlt/core';
import { runBackendConformance } from '@xlt/plugin-api/testing';
import { NativeBackend } from './native-backend.js';

/**
 * The shared backend conformance suite (plugin-api's PyTorch reference) on the native addon: the same checks and the
 * same dropout masks as the TF.js backends. Needs the addon built and python3 with torch and numpy (`XLT_PYTHON`);
 * fails, never skips, without them. `XLT_DEBUG=1` prints the measured differences.
 */
const log = process.env['XLT_DEBUG'] ? (line: string) => console.info(line) : undefined;
runBackendConformance({ runner: { describe, it, expect, beforeAll }, backend: new NativeBackend(), providers: [bertProvider, xlmRobertaProvider], ...(log ? { log } : {}) });
