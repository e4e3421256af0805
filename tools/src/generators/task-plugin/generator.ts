import { generateFiles, offsetFromRoot, type Tree } from '@nx/devkit';
import { newPackageRoot, pluginNames } from '../plugin-names.js';
import { templateFolder } from '../template-folder.js';
import { dependencyVersion, packageDependencyVersion, workspaceVersion } from '../workspace-versions.js';
import type { TaskPluginSchema } from './schema.js';

/**
 * `nx g @xlt/tools:task-plugin <name>`: scaffolds `packages/<name>` as a publishable task plugin: a `text<TAB>label`
 * reader, a classification head with HF names, accuracy, the `ContainerModule`, a README and a spec that runs the
 * core task conformance suite over a fixture it also writes. The result builds and passes its tests as generated;
 * it is the starting point to replace with the new task's own reader, head and metric.
 */
export async function taskPluginGenerator(tree: Tree, schema: TaskPluginSchema): Promise<void> {
  const names = pluginNames(schema.name, 'tasks-', schema.taskId);
  const root = newPackageRoot(tree, names, schema.directory);
  generateFiles(tree, templateFolder('task-plugin', import.meta.dirname), root, {
    ...names,
    root,
    offset: offsetFromRoot(root),
    coreVersion: workspaceVersion(tree, 'core'),
    inversifyVersion: dependencyVersion(tree, 'inversify', '8.2.3'),
    zodVersion: dependencyVersion(tree, 'zod', '4.6.7'),
    tfjsVersion: packageDependencyVersion(tree, 'core', '@tensorflow/tfjs', '4.22.0'),
  });
}

export default taskPluginGenerator;
