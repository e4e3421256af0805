import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tempDir } from '@xlt/plugin-api/testing';
import { runCli } from './program.js';
import { toyModule } from '../experiment/testing/toy-module.js';
import { writeToyExperiment } from '../experiment/testing/toy-benchmark.js';
import { experimentJsonSchema } from './config-schema.js';

/** Runs the CLI in-process with the toy task; returns its exit code and what it wrote. */
async function runCaptured(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    const code = await runCli(argv, { noDiscovery: true, modules: [toyModule] });
    return { code, stdout, stderr };
  } finally {
    vi.restoreAllMocks();
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
async function toyConfig(): Promise<{ dir: string; config: string }> {
  const t = await tempDir('xlt-cli-');
  cleanups.push(t.cleanup);
  return { dir: t.dir, config: await writeToyExperiment(t.dir) };
}

describe('xlt --version', () => {
  it("prints @xlt/core's version from its package.json and exits 0", async () => {
    const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-V']) {
      const { code, stdout } = await runCaptured([flag]);
      expect(code).toBe(0);
      expect(stdout).toBe(`${version}\n`);
    }
  });
});

describe('--set on every command over an experiment config', () => {
  it('is offered by run, plan, submit and train, and not by commands without a config', async () => {
    for (const command of ['run', 'plan', 'submit', 'train']) expect((await runCaptured([command, '--help'])).stdout, command).toContain('--set <path=value>');
    expect((await runCaptured(['evaluate', '--help'])).stdout).not.toContain('--set');
  });

  it('changes the grid the command sees (later flags win), and leaves XLT_SET as it was', async () => {
    const { config } = await toyConfig();
    const before = process.env['XLT_SET'];
    const { code, stdout, stderr } = await runCaptured(['train', config, '--list', '--set', 'grid.seeds=[7]', '--set', 'grid.learningRate=[0.3]', '--set', 'grid.seeds=[1,2,3]']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toEqual([1, 2, 3].map((s) => `lr=0.3_bs=8_ep=2_sched=linear_wu=0_seed=${s}`));
    expect(process.env['XLT_SET']).toBe(before);
  });

  it('reports an unknown key by its --set, with the config it was applied to', async () => {
    const { config } = await toyConfig();
    const { code, stderr } = await runCaptured(['plan', config, '--set', 'grid.sedes=[1,2]']);
    expect(code).toBe(1);
    expect(stderr).toContain(`--set grid.sedes=[1,2] (over ${config}) at grid.sedes: expected no such field (unknown key), found "sedes"`);
  });

  it('refuses a malformed flag before loading anything', async () => {
    const { code, stderr } = await runCaptured(['plan', 'no-such-config.json', '--set', 'grid.seeds']);
    expect(code).toBe(1);
    expect(stderr).toContain('--set grid.seeds: expected path=value');
  });

  it('reaches the tasks of scripts written for later: SLURM scripts export it, Kubernetes containers get it', async () => {
    const { config } = await toyConfig();
    const slurm = await runCaptured(['submit', 'slurm', config, '--dry-run', '--set', 'grid.seeds=[3,4,5]']);
    expect(slurm.code, slurm.stderr).toBe(0);
    const exported = [...slurm.stdout.matchAll(/^export XLT_SET='([^']*)'$/gm)].map((m) => m[1]!);
    expect(exported).toHaveLength(2);
    expect(exported[1]).toBe(exported[0]);
    // The exported value loads the config that --set planned: `xlt plan` under it prints the same plan.
    const planned = await runCaptured(['plan', config, '--set', 'grid.seeds=[3,4,5]']);
    const plain = await runCaptured(['plan', config]);
    process.env['XLT_SET'] = exported[0]!;
    let viaScript;
    try {
      viaScript = await runCaptured(['plan', config]);
    } finally {
      delete process.env['XLT_SET'];
    }
    expect(viaScript.stdout).toBe(planned.stdout);
    expect(plain.stdout).not.toBe(planned.stdout);
    const k8s = await runCaptured(['submit', 'k8s', config, '--image', 'i', '--claim', 'c', '--mount-path', '/w', '--dry-run', '--set', 'grid.seeds=[3,4,5]']);
    expect(k8s.code, k8s.stderr).toBe(0);
    expect(k8s.stdout.split(`- name: XLT_SET\n              value: ${JSON.stringify(exported[0])}`)).toHaveLength(3);
  });
});

describe('xlt --offline', () => {
  it('never touches the network: a hub id missing from the Hugging Face cache is an error naming the cache folder', async () => {
    const { dir, config } = await toyConfig();
    const before = { HF_HUB_CACHE: process.env['HF_HUB_CACHE'], HF_HUB_OFFLINE: process.env['HF_HUB_OFFLINE'], HF_ENDPOINT: process.env['HF_ENDPOINT'] };
    process.env['HF_HUB_CACHE'] = join(dir, 'hub');
    delete process.env['HF_HUB_OFFLINE'];
    process.env['HF_ENDPOINT'] = 'http://127.0.0.1:9'; // a request would fail differently
    try {
      const { code, stderr } = await runCaptured(['train', config, '--list', '--set', 'model=someone/absent', '--offline']);
      expect(code).toBe(1);
      expect(stderr).toContain(`Model "someone/absent" is not in the Hugging Face cache: no snapshot of revision "main" in ${join(dir, 'hub', 'models--someone--absent')}`);
      expect(stderr).toContain('Downloads are off (HF_HUB_OFFLINE=1)');
      expect(process.env['HF_HUB_OFFLINE']).toBeUndefined();
      const online = await runCaptured(['train', config, '--list', '--set', 'model=someone/absent']);
      expect(online.stderr).toContain('Could not download http://127.0.0.1:9/someone/absent/resolve/main/config.json');
    } finally {
      for (const [k, v] of Object.entries(before)) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
});

describe('xlt schema', () => {
  it('prints the JSON Schema of the experiment config, and --out writes it', async () => {
    const printed = await runCaptured(['schema']);
    expect(printed.code).toBe(0);
    const schema = JSON.parse(printed.stdout) as { required: string[]; properties: Record<string, { default?: unknown }>; additionalProperties: boolean };
    expect(schema).toEqual(experimentJsonSchema());
    expect(schema.required.sort()).toEqual(['model', 'name', 'source', 'targets', 'task']);
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['$schema', 'grid', 'training', 'checkpoints', 'strategies']));
    const { dir } = await toyConfig();
    const file = join(dir, 'nested', 'schema.json');
    expect((await runCaptured(['schema', '--out', file])).code).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(printed.stdout);
  });
});
