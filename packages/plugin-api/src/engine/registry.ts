import { XltError } from '../errors.js';
import type { Plugin } from '../plugins/plugin.js';

/** Two plugins of one extension point claim the same id. */
export class DuplicatePluginError extends XltError {
  override readonly name = 'DuplicatePluginError';
}

/** A plugin id that no bound plugin has; the message lists the ids that exist. */
export class UnknownPluginError extends XltError {
  override readonly name = 'UnknownPluginError';
}

/**
 * The plugins of one extension point, by id. Built once from the container's bindings, so what is available is
 * exactly what the loaded modules bound: no global registry, no import side effects.
 */
export class PluginRegistry<T extends Plugin> {
  readonly #byId = new Map<string, T>();

  constructor(
    /** Human name of the extension point, used in messages (`task`, `averaging strategy`, ...). */
    readonly kind: string,
    plugins: readonly T[],
  ) {
    for (const plugin of plugins) {
      if (typeof plugin?.id !== 'string' || plugin.id === '') {
        throw new XltError(`A ${kind} plugin was bound without an id (found ${describe(plugin)}).`);
      }
      const existing = this.#byId.get(plugin.id);
      if (existing) {
        throw new DuplicatePluginError(
          `Two ${kind} plugins have the id "${plugin.id}": ${describe(existing)} and ${describe(plugin)}. ` +
            `Ids must be unique; unbind one or give it another id.`,
        );
      }
      this.#byId.set(plugin.id, plugin);
    }
  }

  /** The plugin with this id; an {@link UnknownPluginError} listing the known ids otherwise. */
  get(id: string): T {
    const plugin = this.#byId.get(id);
    if (!plugin) {
      const known = this.ids();
      throw new UnknownPluginError(
        `Unknown ${this.kind} "${id}". ` +
          (known.length ? `Known ${this.kind} ids: ${known.join(', ')}.` : `No ${this.kind} plugin is registered.`),
      );
    }
    return plugin;
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  /** Sorted ids. */
  ids(): string[] {
    return [...this.#byId.keys()].sort();
  }

  /** Plugins sorted by id. */
  all(): T[] {
    return this.ids().map((id) => this.#byId.get(id)!);
  }
}

function describe(plugin: unknown): string {
  const ctor = (plugin as { constructor?: { name?: string } } | null)?.constructor?.name;
  const desc = (plugin as { description?: string } | null)?.description;
  return [ctor && ctor !== 'Object' ? ctor : undefined, desc ? `"${desc}"` : undefined].filter(Boolean).join(' ') || typeof plugin;
}
