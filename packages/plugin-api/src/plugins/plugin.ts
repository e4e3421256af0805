import type { z } from 'zod';

/** What every plugin has: a unique id within its extension point and a one-line description. */
export interface Plugin {
  /** Unique id within the extension point, e.g. `nli`, `checkpoint-average`, `native`. Lower-case, dashes. */
  readonly id: string;
  /** One line, shown by `xlt plugins`. */
  readonly description: string;
  /**
   * Schema of this plugin's options as they appear in an experiment config. The config loader validates the
   * options block of each plugin against it, so errors name the path in the user's file.
   */
  readonly optionsSchema?: z.ZodType;
}
