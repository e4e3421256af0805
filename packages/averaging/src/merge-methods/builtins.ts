import { PluginRegistry, type MergeMethod } from '@xlt/plugin-api';
import { dareLinearMethod, dareTiesMethod } from './dare.js';
import { linearMethod } from './linear.js';
import { modelStockMethod } from './model-stock.js';
import { slerpMethod } from './slerp.js';
import { taskArithmeticMethod } from './task-arithmetic.js';
import { tiesMethod } from './ties.js';

export { linearMethod, type LinearParams } from './linear.js';
export { taskArithmeticMethod, type TaskArithmeticParams } from './task-arithmetic.js';
export { tiesMethod, type TiesParams } from './ties.js';
export { dareLinearMethod, dareTiesMethod, type DareParams } from './dare.js';
export { modelStockMethod, type ModelStockParams } from './model-stock.js';
export { slerpMethod, type SlerpParams } from './slerp.js';
export { dareKey, nameHash } from './task-vectors.js';
export { parseMergeParams } from './parameters.js';

/** The built-in merge methods, in the order the README lists them. */
export function builtinMergeMethods(): MergeMethod[] {
  return [linearMethod, taskArithmeticMethod, tiesMethod, dareLinearMethod, dareTiesMethod, modelStockMethod, slerpMethod] as unknown as MergeMethod[];
}

/** A registry of merge methods by id (default: the built-ins); an unknown id lists the known ones. */
export function mergeMethodRegistry(methods: readonly MergeMethod[] = builtinMergeMethods()): PluginRegistry<MergeMethod> {
  return new PluginRegistry('merge method', methods);
}
