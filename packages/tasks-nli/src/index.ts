/**
 * @packageDocumentation
 * Work in progress: this package's plugins are being built (see the root README's status section).
 */
import { ContainerModule } from 'inversify';

/** The container module of this package: binds its plugins to the core extension points. */
export const nliModule = new ContainerModule(() => {});
