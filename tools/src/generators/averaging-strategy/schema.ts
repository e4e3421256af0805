/** Options of the `averaging-strategy` generator, as in its `schema.json`. */
export interface AveragingStrategySchema {
  /** Folder and package name, e.g. `averaging-tail`. */
  readonly name: string;
  /** Strategy id; default the name without `averaging-`. */
  readonly strategyId?: string;
  /** Folder of the workspace packages; default `packages`. */
  readonly directory?: string;
}
