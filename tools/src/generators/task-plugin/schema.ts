/** Options of the `task-plugin` generator, as in its `schema.json`. */
export interface TaskPluginSchema {
  /** Folder and package name, e.g. `tasks-sentiment`. */
  readonly name: string;
  /** Task id; default the name without `tasks-`. */
  readonly taskId?: string;
  /** Folder of the workspace packages; default `packages`. */
  readonly directory?: string;
}
