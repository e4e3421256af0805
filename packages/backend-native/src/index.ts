/**
 * `@xlt/backend-native`: the native training backends, one encoder written twice: `native`, a C++ N-API addon over
 * OpenBLAS (CPU), and `cuda`, its sibling on NVIDIA GPUs (CUDA kernels and cuBLAS). Both optional: when an addon
 * is not built or no GPU is visible, the backend's probe says why and the trainer picks another one.
 * @packageDocumentation
 */
import { ContainerModule } from 'inversify';
import { TrainingBackend } from '@xlt/plugin-api';
import { CudaBackend } from './cuda-backend.js';
import { NativeBackend } from './native-backend.js';

export { NativeBackend, nativeShape, nativeThreads } from './native-backend.js';
export { NativeEncoderRuntime } from './native-encoder-runtime.js';
export { CudaBackend, cudaPrecision, type CudaBackendOptions, type CudaPrecision } from './cuda-backend.js';
export { CudaEncoderRuntime } from './cuda-encoder-runtime.js';
export { cudaAddonPath, emulatedCudaAddonPath, CudaArena, type CudaAddon, type CudaAddonLoad, type CudaEncoderHandle } from './cuda-addon.js';
export { arenaLayout, arenaViews, copyTensors, adamwSegments, type ArenaLayout, type ArenaSlot } from './layout.js';
// The loaders stay internal (the runtimes validate what reaches an addon); the handle types are exported so the
// runtimes' signatures are documented.
export { addonPath, type AddonLoad, type NativeAddon, type NativeAdamW, type NativeEncoderHandle, type NativeShape } from './addon.js';

/** The container module of this package: binds {@link NativeBackend} and {@link CudaBackend} to the core `TrainingBackend` extension point. */
export const nativeModule = new ContainerModule(({ bind }) => {
  bind(TrainingBackend).toConstantValue(new NativeBackend());
  bind(TrainingBackend).toConstantValue(new CudaBackend());
});
