import { generateFiles, offsetFromRoot, type Tree } from '@nx/devkit';
import { newPackageRoot, pluginNames } from '../plugin-names.js';
import { templateFolder } from '../template-folder.js';
import { dependencyVersion, workspaceVersion } from '../workspace-versions.js';
import type { AveragingStrategySchema } from './schema.js';

/**
 * `nx g @xlt/tools:averaging-strategy <name>`: scaffolds `packages/<name>` as a publishable averaging strategy: a
 * class implementing `AveragingStrategy` with zod options (a uniform average of each run's last K checkpoints, to be
 * replaced by the new method), its `ContainerModule`, a README and a spec that runs `runStrategyConformance` from
 * `@xlt/plugin-api/testing`. It depends on `@xlt/plugin-api` only (peer and dev), never on `@xlt/core` or another
 * plugin, so a strategy author installs a few MB. The result builds and passes its tests as generated.
 */
export async function averagingStrategyGenerator(tree: Tree, schema: AveragingStrategySchema): Promise<void> {
  const names = pluginNames(schema.name, 'averaging-', schema.strategyId);
  const root = newPackageRoot(tree, names, schema.directory);
  generateFiles(tree, templateFolder('averaging-strategy', import.meta.dirname), root, {
    ...names,
    root,
    offset: offsetFromRoot(root),
    pluginApiVersion: workspaceVersion(tree, 'plugin-api'),
    inversifyVersion: dependencyVersion(tree, 'inversify', '8.2.3'),
    zodVersion: dependencyVersion(tree, 'zod', '4.6.7'),
  });
}

export default averagingStrategyGenerator;
