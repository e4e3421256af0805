import { MergeMethod, PluginRegistry, type CheckpointMerger, type Engine, type WeightedCheckpoint } from '@xlt/plugin-api';
import type { WeightedPath } from '../average-checkpoints.js';
import { mergeCheckpoints, type MergeOptions, type MergeResult } from './merge-checkpoints.js';

/** A merge to apply to a strategy's plan: the method (id or object), its parameters and the base. */
export type MergeSpec = MergeOptions;

/**
 * Applies a merge method to the plan a strategy returned: strategies choose and weight the checkpoints, the
 * method does the math. `mergePlan(await strategy.plan(runs, options, context), { method: 'ties', params: { density: 0.5 }, base }, 'out')`.
 */
export function mergePlan(plan: readonly (WeightedCheckpoint | WeightedPath)[], spec: MergeSpec, out: string): Promise<MergeResult> {
  return mergeCheckpoints(plan, out, spec);
}

/**
 * A {@link CheckpointMerger} that merges every plan with one method, so an experiment can use it in place of
 * `streaming-mean` (`bind(CheckpointMerger).toConstantValue(methodMerger({ method: 'ties', base, params }))`).
 * Its id defaults to `<method>-merge` with dashes (`dare-ties-merge`); non-finite results are refused unless
 * the spec allows them, as `streaming-mean` does.
 */
export function methodMerger(spec: MergeSpec & { readonly id?: string }): CheckpointMerger {
  const methodId = typeof spec.method === 'string' ? spec.method : spec.method.id;
  const { id, ...options } = spec;
  return {
    id: id ?? `${methodId.replaceAll('_', '-')}-merge`,
    description: `merges the plan with the "${methodId}" merge method${spec.base ? ` over the base ${spec.base}` : ''}`,
    merge: async (plan, outDir) => void (await mergeCheckpoints(plan, outDir, options)),
  };
}

/**
 * The {@link CheckpointMerger} an experiment names to merge every strategy's plan with `method`: its id is the
 * method's with dashes (`dare-ties`), its options are the method's parameters (validated by the config loader),
 * and task-vector methods take the experiment's pretrained model as their base. E.g. `merger: {id: ties,
 * options: {density: 0.5}}` with `checkpoint-average` gives TIES over the checkpoints of each run.
 */
export function methodCheckpointMerger(method: MergeMethod): CheckpointMerger {
  return {
    id: method.id.replaceAll('_', '-'),
    description: `${method.name} (${method.reference.split(',')[0]}): merge method "${method.id}" over the plan${method.base === 'required' ? ', relative to the pretrained model' : ''}`,
    optionsSchema: method.parameters,
    needsBase: method.base === 'required',
    merge: async (plan, outDir, context) => {
      await mergeCheckpoints(plan, outDir, { method, params: context?.options ?? {}, ...(method.base === 'required' && context?.base ? { base: context.base } : {}) });
    },
  };
}

/**
 * The merge methods an engine's modules bound under the {@link MergeMethod} symbol (the built-ins once
 * `averagingModule` is loaded, plus any plugin's), as a registry: the engine has no `mergeMethods` registry of
 * its own yet, so this builds one from its container. Duplicate ids are an error, unknown ids list the known ones.
 */
export function mergeMethodsOf(engine: Engine): PluginRegistry<MergeMethod> {
  return new PluginRegistry('merge method', engine.container.getAll<MergeMethod>(MergeMethod, { optional: true }) ?? []);
}
