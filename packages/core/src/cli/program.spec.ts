import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../testing/fixtures.js';

const bin = join(import.meta.dirname, '../../bin/xlt.js');
const run = (args: string[], env: Record<string, string> = {}) =>
  execFileSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

describe('xlt CLI (built)', () => {
  it('prints help for the program and for each command', () => {
    expect(run(['--help'])).toContain('Usage: xlt');
    expect(run(['plugins', '--help'])).toContain('Usage: xlt plugins');
  });

  it('lists plugins, including one loaded with --plugin from a module file', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const corePath = join(import.meta.dirname, '../../dist/index.js');
      const file = join(dir, 'my-plugin.mjs');
      await writeFile(
        file,
        `import { ContainerModule } from 'inversify';\nimport { AveragingStrategy } from ${JSON.stringify(corePath)};\n` +
          `export const myModule = new ContainerModule(({ bind }) => bind(AveragingStrategy).toConstantValue({ id: 'my-soup', description: 'my custom soup', scope: 'per-run', oracle: false, plan: async () => [] }));\n`,
      );
      // the plugin file imports inversify, which resolves from the workspace when the file sits inside it
      const local = join(import.meta.dirname, '../../.tmp-plugin.mjs');
      await writeFile(local, await (await import('node:fs/promises')).readFile(file, 'utf8'));
      try {
        const out = run(['--plugin', local, 'plugins']);
        expect(out).toMatch(/averaging strategies:\n(.*\n)*  my-soup +my custom soup/);
        const json = JSON.parse(run(['plugins', '--json'], { XLT_PLUGINS: local }));
        expect(json['averaging strategy']).toContainEqual({ id: 'my-soup', description: 'my custom soup' });
      } finally {
        await (await import('node:fs/promises')).rm(local, { force: true });
      }
    } finally {
      await cleanup();
    }
  });

  it('fails with a clear message for an unloadable plugin', () => {
    expect(() => run(['--plugin', './does-not-exist.mjs', 'plugins'])).toThrow(/Cannot load the plugin ".\/does-not-exist.mjs"/);
  });
});
