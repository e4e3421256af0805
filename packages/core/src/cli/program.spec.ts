import { execFileSync, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '@xlt/plugin-api/testing';

const bin = join(import.meta.dirname, '../../bin/xlt.js');
const run = (args: string[], env: Record<string, string> = {}) =>
  execFileSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

describe('xlt CLI (built)', () => {
  it("prints @xlt/core's version with --version", async () => {
    const { version } = JSON.parse(await (await import('node:fs/promises')).readFile(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
    expect(run(['--version'])).toBe(`${version}\n`);
  });

  it('prints help for the program and for each command', () => {
    expect(run(['--help'])).toContain('Usage: xlt');
    expect(run(['plugins', '--help'])).toContain('Usage: xlt plugins');
  });

  it('lists plugins, including one loaded with --plugin from a module file', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const apiPath = join(import.meta.dirname, '../../../plugin-api/dist/index.js');
      const file = join(dir, 'my-plugin.mjs');
      await writeFile(
        file,
        `import { ContainerModule } from 'inversify';\nimport { AveragingStrategy } from ${JSON.stringify(apiPath)};\n` +
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
        // Each backend says whether it can run here, and why not: tfjs-cpu always can, tfjs-node is not installed.
        expect(json['backend']).toContainEqual(expect.objectContaining({ id: 'tfjs-cpu', available: true }));
        expect(json['backend']).toContainEqual(expect.objectContaining({ id: 'tfjs-node', available: false, detail: '@tensorflow/tfjs-node is not installed' }));
        expect(out).toMatch(/  tfjs-node +TF\.js with @tensorflow\/tfjs-node .*\n +unavailable: @tensorflow\/tfjs-node is not installed\n/);
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

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('stops on %s with exit code %i, saying that the finished work is kept and how to resume', async (signal, code) => {
    const { dir, cleanup } = await tempDir();
    try {
      const child = spawn(process.execPath, [bin, 'quickstart', '--out', join(dir, 'q')], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      // Signal once the quickstart is under way (its first status line), not while Node is still starting.
      await new Promise<void>((started) => child.stderr.once('data', () => started()));
      child.kill(signal);
      const exit = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
      expect(exit).toBe(code);
      expect(stderr).toContain(`xlt: stopped by ${signal}.`);
      expect(stderr).toContain('run the same command again to resume');
    } finally {
      await cleanup();
    }
  });
});
