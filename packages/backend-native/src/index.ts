/**
 * `@xlt/backend-native`: the native CPU training backend (`native`), a C++ N-API addon over OpenBLAS with a
 * hand-written BERT/XLM-R encoder and fused AdamW. Optional: when the addon is not built, {@link NativeBackend.probe}
 * says why and the trainer falls back to TF.js.
 * @packageDocumentation
 */
import { ContainerModule } from 'inversify';
import { TrainingBackend } from '@xlt/plugin-api';
import { NativeBackend } from './native-backend.js';

export { NativeBackend, nativeShape, nativeThreads } from './native-backend.js';
export { NativeEncoderRuntime } from './native-encoder-runtime.js';
export { arenaLayout, type ArenaLayout, type ArenaSlot } from './layout.js';
// The raw addon (loadAddon, its handle types) stays internal: the runtime validates what reaches it.
export { addonPath, type AddonLoad } from './addon.js';

/** The container module of this package: binds {@link NativeBackend} to the core `TrainingBackend` extension point. */
export const nativeModule = new ContainerModule(({ bind }) => {
  bind(TrainingBackend).toConstantValue(new NativeBackend());
});
