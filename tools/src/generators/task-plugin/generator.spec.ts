import { readJson, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { taskPluginGenerator } from './generator.js';

/** Every generated file, with no template syntax or suffix left over. */
function generatedFiles(tree: Tree, root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const child of tree.children(dir)) {
      const path = `${dir}/${child}`;
      if (tree.isFile(path)) files.push(path.slice(root.length + 1));
      else walk(path);
    }
  };
  walk(root);
  return files.sort();
}

describe('task-plugin generator', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
    tree.write('packages/plugin-api/package.json', JSON.stringify({ name: '@xlt/plugin-api', version: '0.3.0', peerDependencies: { '@tensorflow/tfjs': '^4.98.0' } }));
    tree.write('packages/core/package.json', JSON.stringify({ name: '@xlt/core', version: '0.3.1', dependencies: { '@tensorflow/tfjs': '4.99.0' } }));
  });

  it('scaffolds a publishable package with module, reader, head, metric, README, spec and fixture', async () => {
    await taskPluginGenerator(tree, { name: 'tasks-sentiment' });
    const root = 'packages/tasks-sentiment';
    expect(generatedFiles(tree, root)).toEqual([
      'README.md',
      'package.json',
      'src/accuracy.ts',
      'src/classification-head.ts',
      'src/fixtures/train.tsv',
      'src/index.ts',
      'src/sentiment-example.ts',
      'src/sentiment-task.spec.ts',
      'src/sentiment-task.ts',
      'src/tsv-reader.ts',
      'tsconfig.json',
      'tsconfig.lib.json',
      'vitest.config.ts',
    ]);
    for (const file of generatedFiles(tree, root)) {
      const text = tree.read(`${root}/${file}`, 'utf-8')!;
      expect(text, file).not.toMatch(/<%|%>|__id__/);
    }
  });

  it('writes package.json like the workspace task packages: the plugin API and TF.js as peers, core for tests only', async () => {
    await taskPluginGenerator(tree, { name: 'tasks-sentiment' });
    const pkg = readJson(tree, 'packages/tasks-sentiment/package.json');
    expect(pkg).toMatchObject({
      name: '@xlt/tasks-sentiment',
      version: '0.3.0',
      type: 'module',
      exports: { '.': { '@xlt/source': './src/index.ts', types: './dist/index.d.ts', import: './dist/index.js' } },
      files: expect.arrayContaining(['dist', 'README.md']),
      engines: { node: '>=20.19' },
      devDependencies: { '@xlt/plugin-api': '0.3.0', '@xlt/core': '0.3.1', '@tensorflow/tfjs': '4.99.0' },
      scripts: { build: 'tsc -p tsconfig.lib.json', test: 'vitest run' },
      xlt: { module: 'sentimentModule' },
    });
    // The peer range of TF.js is the plugin API's; the exact dev version is the one core runs.
    expect(pkg.peerDependencies).toEqual({ '@xlt/plugin-api': '0.3.0', '@tensorflow/tfjs': '^4.98.0' });
    expect(readJson(tree, 'packages/tasks-sentiment/tsconfig.json').extends).toBe('../../tsconfig.base.json');
    expect(tree.read('packages/tasks-sentiment/vitest.config.ts', 'utf-8')).toContain("from '../../vitest.shared.js'");
  });

  it('names the task, module and types from the id, and runs the conformance suite in the spec', async () => {
    await taskPluginGenerator(tree, { name: 'tasks-word-sense', taskId: 'wsd-lite' });
    const root = 'packages/tasks-word-sense';
    const index = tree.read(`${root}/src/index.ts`, 'utf-8')!;
    expect(index).toContain('export const wsdLiteModule = new ContainerModule');
    expect(index).toContain("from './wsd-lite-task.js'");
    const task = tree.read(`${root}/src/wsd-lite-task.ts`, 'utf-8')!;
    expect(task).toContain("id: 'wsd-lite'");
    expect(task).toContain('TaskPlugin<WsdLiteExample, WsdLiteFeature, string>');
    const spec = tree.read(`${root}/src/wsd-lite-task.spec.ts`, 'utf-8')!;
    expect(spec).toContain("import { describeTaskConformance } from '@xlt/core/testing'");
    expect(spec).toContain("import { whitespaceTokenizer } from '@xlt/plugin-api/testing'");
    // Only the spec may use core (a dev dependency, for the task conformance suite); the sources import the plugin API.
    for (const file of ['index.ts', 'wsd-lite-task.ts', 'tsv-reader.ts', 'classification-head.ts', 'accuracy.ts']) {
      const text = tree.read(`${root}/src/${file}`, 'utf-8')!;
      expect(text, file).not.toMatch(/from '@xlt\/core/);
    }
    expect(task).toContain("from '@xlt/plugin-api'");
    expect(spec).toContain('describeTaskConformance(wsdLiteTask, {');
    expect(tree.read(`${root}/src/fixtures/train.tsv`, 'utf-8')!.split('\n').filter(Boolean).every((l) => l.split('\t').length === 2)).toBe(true);
  });

  it('uses the folder name as the id when it has no tasks- prefix, and honours the directory', async () => {
    await taskPluginGenerator(tree, { name: 'toxicity', directory: 'libs/plugins' });
    expect(tree.exists('libs/plugins/toxicity/src/toxicity-task.ts')).toBe(true);
    expect(readJson(tree, 'libs/plugins/toxicity/tsconfig.json').extends).toBe('../../../tsconfig.base.json');
  });

  it('refuses bad names and an existing package', async () => {
    await expect(taskPluginGenerator(tree, { name: 'Tasks_Bad' })).rejects.toThrow(/Invalid package name "Tasks_Bad"/);
    await expect(taskPluginGenerator(tree, { name: 'tasks-ok', taskId: 'Bad Id' })).rejects.toThrow(/Invalid plugin id/);
    tree.write('packages/tasks-nli/package.json', '{}');
    await expect(taskPluginGenerator(tree, { name: 'tasks-nli' })).rejects.toThrow(/packages\/tasks-nli already exists/);
  });
});
