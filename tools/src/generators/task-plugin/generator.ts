import { generateFiles, offsetFromRoot, type Tree } from '@nx/devkit';
import { newPackageRoot, pluginNames } from '../plugin-names.js';
import { templateFolder } from '../template-folder.js';
import { dependencyVersion, packageDependencyVersion, workspaceVersion } from '../workspace-versions.js';
import type { TaskPluginSchema } from './schema.js';

/**
 * `nx g @xlt/tools:task-plugin <name>`: scaffolds `packages/<name>` as a publishable task plugin: a `text<TAB>label`
 * reader, a classification head with HF names, accuracy, the `ContainerModule`, a README and a spec that runs the
 * task conformance suite of `@xlt/core/testing` over a fixture it also writes. The package peer-depends on
 * `@xlt/plugin-api` (the contracts) and `@tensorflow/tfjs` (its head is TF.js code); `@xlt/core` is a dev dependency
 * only, for the conformance suite, which needs the TF.js runtime. The result builds and passes its tests as generated;
 * it is the starting point to replace with the new task's own reader, head and metric.
 */
export async function taskPluginGenerator(tree: Tree, schema: TaskPluginSchema): Promise<void> {
  const names = pluginNames(schema.name, 'tasks-', schema.taskId);
  const root = newPackageRoot(tree, names, schema.directory);
  // The exact version core runs (the dev dependency the tests use); the peer range is the plugin API's.
  const tfjsVersion = packageDependencyVersion(tree, 'core', '@tensorflow/tfjs', '4.22.0');
  generateFiles(tree, templateFolder('task-plugin', import.meta.dirname), root, {
    ...names,
    root,
    offset: offsetFromRoot(root),
    pluginApiVersion: workspaceVersion(tree, 'plugin-api'),
    coreVersion: workspaceVersion(tree, 'core'),
    inversifyVersion: dependencyVersion(tree, 'inversify', '8.2.3'),
    zodVersion: dependencyVersion(tree, 'zod', '4.6.7'),
    tfjsVersion,
    tfjsPeerRange: packageDependencyVersion(tree, 'plugin-api', '@tensorflow/tfjs', `^${tfjsVersion}`, 'peerDependencies'),
  });
}

export default taskPluginGenerator;
