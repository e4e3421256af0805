import { beforeAll, describe, expect, it } from 'vitest';
import { bertProvider, xlmRobertaProvider } from '@xlt/core';
import { runBackendConformance } from '@xlt/plugin-api/testing';
import { CudaBackend } from './cuda-backend.js';
import { emulatedCudaAddonPath } from './cuda-addon.js';

/**
 * The shared backend conformance suite (PyTorch reference) on the CUDA backend's sources, run by the CPU emulation
 * of CUDA (`native/cuda/emulation.h`): every kernel, the cuBLAS argument mapping (row-major operands on a
 * column-major library) and the encoder's control flow, without a GPU, in each precision: fp32 gets the float32
 * tolerances; TF32 and bf16 (the emulation rounds GEMM inputs to TF32 and bfloat16 as the GPU does) get
 * plugin-api's `BACKEND_TOLERANCES` of their precision. The GPU itself is checked by the device script (`device/README.md`).
 */
const log = process.env['XLT_DEBUG'] ? (line: string) => console.info(line) : undefined;
const runner = { describe, it, expect, beforeAll };
const providers = [bertProvider, xlmRobertaProvider];
const precisions = [['fp32', 'float32'], ['tf32', 'tf32'], ['bf16', 'bf16']] as const;
for (const [precision, tolerances] of precisions) {
  runBackendConformance({ runner, backend: new CudaBackend({ addonPath: emulatedCudaAddonPath(), precision }), providers, precision: tolerances, ...(log ? { log } : {}) });
}
