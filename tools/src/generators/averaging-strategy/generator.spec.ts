import { readJson, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { averagingStrategyGenerator } from './generator.js';

describe('averaging-strategy generator', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
    tree.write('packages/plugin-api/package.json', JSON.stringify({ name: '@xlt/plugin-api', version: '0.2.0' }));
    tree.write('packages/core/package.json', JSON.stringify({ name: '@xlt/core', version: '0.9.0' }));
    tree.write('packages/averaging/package.json', JSON.stringify({ name: '@xlt/averaging', version: '0.9.0' }));
  });

  it('scaffolds a strategy class with zod options, its module, README and a conformance spec', async () => {
    await averagingStrategyGenerator(tree, { name: 'averaging-tail' });
    const root = 'packages/averaging-tail';
    for (const file of ['README.md', 'package.json', 'tsconfig.json', 'tsconfig.lib.json', 'vitest.config.ts', 'src/index.ts', 'src/tail-strategy.ts', 'src/tail-strategy.spec.ts']) {
      expect(tree.exists(`${root}/${file}`), file).toBe(true);
      expect(tree.read(`${root}/${file}`, 'utf-8'), file).not.toMatch(/<%|%>|__id__/);
    }
    const strategy = tree.read(`${root}/src/tail-strategy.ts`, 'utf-8')!;
    expect(strategy).toContain('export class TailStrategy implements AveragingStrategy<TailOptions>');
    expect(strategy).toContain("readonly id = 'tail'");
    expect(strategy).toContain('z.strictObject(');
    expect(tree.read(`${root}/src/index.ts`, 'utf-8')).toContain('export const tailModule = new ContainerModule');
    const spec = tree.read(`${root}/src/tail-strategy.spec.ts`, 'utf-8')!;
    expect(spec).toContain("import { runStrategyConformance } from '@xlt/plugin-api/testing'");
    for (const file of ['src/tail-strategy.ts', 'src/index.ts', 'src/tail-strategy.spec.ts']) {
      const text = tree.read(`${root}/${file}`, 'utf-8')!;
      expect(text, `${file} imports the contracts from the plugin API`).toContain("from '@xlt/plugin-api");
      expect(text, `${file} imports neither core nor another plugin`).not.toMatch(/from '@xlt\/(core|averaging)/);
    }
    expect(spec).toContain('runStrategyConformance(strategy,');
  });

  it('writes package.json with the plugin API as peer and dev dependency, and neither core nor averaging', async () => {
    await averagingStrategyGenerator(tree, { name: 'averaging-tail', strategyId: 'tail-mean' });
    const pkg = readJson(tree, 'packages/averaging-tail/package.json');
    expect(pkg).toMatchObject({
      name: '@xlt/averaging-tail',
      version: '0.2.0',
      xlt: { module: 'tailMeanModule' },
    });
    expect(pkg.peerDependencies).toEqual({ '@xlt/plugin-api': '0.2.0' });
    expect(pkg.devDependencies).toEqual({ '@xlt/plugin-api': '0.2.0' });
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['inversify', 'zod']);
    expect(tree.exists('packages/averaging-tail/src/tail-mean-strategy.ts')).toBe(true);
  });

  it('refuses bad names and an existing package', async () => {
    await expect(averagingStrategyGenerator(tree, { name: '9lives' })).rejects.toThrow(/Invalid package name/);
    await expect(averagingStrategyGenerator(tree, { name: 'averaging' })).rejects.toThrow(/already exists/);
  });
});
