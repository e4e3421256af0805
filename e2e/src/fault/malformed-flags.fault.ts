/**
 * Bad flag values for every `xlt` command that takes one (issue #20). A bad value must end the command with exit
 * code 1 (2 is the CLI's code for an unexpected crash), a message on stderr that names the flag, no stack trace, and
 * nothing written to the `--out` folder. The numeric flags are checked against every bad value in-process (cheap),
 * and once each through the built CLI; flags checked inside a command run as real processes against a small valid
 * setup (the quickstart's files, written but not run), so that the flag, not a missing file, is what fails.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { averagingModule } from '@xlt/averaging';
import { runCli, writeQuickstart } from '@xlt/core';
import { tempDir } from '@xlt/plugin-api/testing';
import { nliModule } from '@xlt/tasks-nli';
import { qaModule } from '@xlt/tasks-qa';
import { taggingModule } from '@xlt/tasks-tagging';
import { xlt, type Outcome } from '../run-xlt.js';

const STACK = /\n\s+at /;

/** Bad values by the kind of number a flag takes; each is invalid for that kind, so no command ever starts work. */
const BAD = {
  positive: ['0', '-1', 'abc', '1e309', 'NaN', '', '1.5', '0x10', ' 7', '9007199254740993'],
  nonNegative: ['-1', 'abc', '1e309', 'NaN', '', '1.5', '-0.5'],
  integer: ['abc', '1e309', 'NaN', '', '1.5', '9007199254740993', '--'],
} as const;

let root: string;
let cleanup: () => Promise<void>;
/** The quickstart's files: a valid config, CoNLL-U data and a tiny model folder. */
let setup: { config: string; model: string; data: string; pred: string };
let outs = 0;
/** A fresh `--out` path per case, so that "nothing written" is checked per case. */
const freshOut = () => join(root, `out-${outs++}`);

beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('xlt-malformed-flags-'));
  const qs = join(root, 'qs');
  const config = await writeQuickstart({ out: qs, trainSentences: 16, evalSentences: 8 });
  const pred = join(root, 'pred.txt');
  await writeFile(pred, 'NOUN\n');
  setup = { config, model: join(qs, 'tiny-random-bert'), data: join(qs, 'data', 'syn-src-dev.conllu'), pred };
});
afterAll(() => cleanup?.());

/** Each numeric flag with the arguments that otherwise make a valid command line, and the kind of number it takes. */
function numericFlags(): { flag: string; kind: keyof typeof BAD; args: (out: string) => string[] }[] {
  const { config, model, data } = setup;
  return [
    { flag: '--max-shard-bytes', kind: 'positive', args: (out) => ['average', model, model, '--out', out] },
    { flag: '--max-length', kind: 'positive', args: (out) => ['encode', '--model', model, '--input', data, '--out', join(out, 'x.safetensors')] },
    { flag: '--batch-size', kind: 'positive', args: (out) => ['encode', '--model', model, '--input', data, '--out', join(out, 'x.safetensors')] },
    { flag: '--max-length', kind: 'positive', args: (out) => ['evaluate', '--task', 'pos', '--model', model, '--data', data, '--out', out] },
    { flag: '--batch-size', kind: 'positive', args: (out) => ['evaluate', '--task', 'pos', '--model', model, '--data', data, '--out', out] },
    { flag: '--index', kind: 'nonNegative', args: (out) => ['run', config, '--out', out] },
    { flag: '--workers', kind: 'positive', args: (out) => ['run', config, '--out', out] },
    { flag: '--parallel', kind: 'positive', args: (out) => ['submit', 'slurm', config, '--out', out] },
    { flag: '--cpus-per-task', kind: 'positive', args: (out) => ['submit', 'slurm', config, '--out', out] },
    { flag: '--gpus-per-task', kind: 'positive', args: (out) => ['submit', 'k8s', config, '--out', out, '--image', 'i', '--claim', 'c', '--mount-path', '/w'] },
    { flag: '--seed', kind: 'integer', args: (out) => ['quickstart', '--out', out] },
  ];
}

/** Why an outcome is not a clean refusal (exit 1, one of `names` on stderr, no stack, `out` not created), if it is not. */
function unclean(o: { code: number | null; stderr: string }, names: readonly string[], out?: string): string | undefined {
  const problems = [
    o.code !== 1 && `exit code ${o.code}, expected 1`,
    !names.some((n) => o.stderr.includes(n)) && `stderr names none of ${names.join(', ')}`,
    STACK.test(o.stderr) && 'a stack trace on stderr',
    /unexpected error/.test(o.stderr) && 'an "unexpected error"',
    out !== undefined && existsSync(out) && `${out} was written`,
  ].filter(Boolean);
  return problems.length ? `${problems.join('; ')}\n  stderr: ${o.stderr.slice(0, 800)}` : undefined;
}

/** Runs the CLI in this process (from source) and captures stderr; stdout is dropped. */
async function inProcess(argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    const code = await runCli(argv, { noDiscovery: true, modules: [nliModule, qaModule, taggingModule, averagingModule] });
    return { code, stderr };
  } finally {
    vi.restoreAllMocks();
  }
}

/** Runs `work` over `items` three at a time: an `xlt` start waits on the disk part of the time, so two cores take three. */
async function pooled<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all([worker(), worker(), worker()]);
}

function fail(label: string, failures: readonly string[]): void {
  if (failures.length) throw new Error(`${label}: ${failures.length} case(s) failed:\n\n${failures.join('\n\n')}`);
}

/** One bad command line for the built CLI: what must name the problem, and the `--out` that must stay unwritten. */
interface CliCase {
  readonly args: string[];
  readonly names: readonly string[];
  readonly out?: string;
}

/** The bad command lines for the built CLI, every command with a flag that takes a value. */
function cliCases(): CliCase[] {
  const { config, model, data, pred } = setup;
  // One bad value per command through the real binary (the in-process test covers every flag and value).
  const numeric = numericFlags()
    .filter((f, i, all) => all.findIndex((g) => g.args('')[0] === f.args('')[0]) === i)
    .map(({ flag, kind, args }, i) => {
      const out = freshOut();
      return { args: [...args(out), flag, BAD[kind][i % BAD[kind].length]!], names: [flag], out };
    });
  // A value looked up in a registry may be named by its flag or quoted as found, next to the ids that exist.
  const lookup = (flag: string, value: string) => [flag, `"${value}"`];
  const withOut = (make: (out: string) => string[], names: string[]): CliCase => {
    const out = freshOut();
    return { args: make(out), names, out };
  };
  return [
    ...numeric,
    ...['abc', '1/0', '0/2/4'].map((v) => withOut((out) => ['run', config, '--out', out, '--shard', v], ['--shard'])),
    withOut((out) => ['run', config, '--out', out, '--index', '99'], ['--index']),
    withOut((out) => ['run', config, '--out', out, '--backend', 'abc'], lookup('--backend', 'abc')),
    withOut((out) => ['plan', config, '--out', out, '--backend', ''], lookup('--backend', '')),
    withOut((out) => ['plan', config, '--out', out, '--set', 'grid.learningRate=[-1]'], ['--set grid.learningRate=[-1]']),
    withOut((out) => ['train', config, '--out', out, '--run', 'lr=9_seed=9'], lookup('--run', 'lr=9_seed=9')),
    withOut((out) => ['submit', 'pbs', config, '--out', out], lookup('<scheduler>', 'pbs')),
    // sbatch reads these later, on the cluster: a bad one must stop here, not in a script that was written.
    withOut((out) => ['submit', 'slurm', config, '--out', out, '--mem', 'lots'], ['--mem']),
    withOut((out) => ['submit', 'slurm', config, '--out', out, '--time', '4:00:00\necho injected'], ['--time']),
    withOut((out) => ['submit', 'slurm', config, '--out', out, '--partition', ''], ['--partition']),
    withOut((out) => ['submit', 'k8s', config, '--out', out, '--image', '', '--claim', 'c', '--mount-path', '/w'], ['--image']),
    withOut((out) => ['evaluate', '--task', 'abc', '--model', model, '--data', data, '--out', out], lookup('--task', 'abc')),
    withOut((out) => ['evaluate', '--task', 'pos', '--model', model, '--data', data, '--out', out, '--format', 'abc'], lookup('--format', 'abc')),
    withOut((out) => ['evaluate', '--task', 'pos', '--model', model, '--data', data, '--out', out, '--backend', 'abc'], lookup('--backend', 'abc')),
    withOut((out) => ['encode', '--model', model, '--input', data, '--out', join(out, 'x.safetensors'), '--backend', 'abc'], lookup('--backend', 'abc')),
    withOut((out) => ['average', model, model, '--out', out, '--dtype', 'F8'], ['--dtype']),
    withOut((out) => ['average', model, model, '--out', out, '--strategy', 'abc'], lookup('--strategy', 'abc')),
    withOut((out) => ['average', model, model, '--out', out, '--strategy', 'checkpoint-average', '--option', 'lastK=abc'], ['lastK']),
    { args: ['score', '--task', 'abc', '--gold', data, '--pred', pred], names: lookup('--task', 'abc') },
    { args: ['score', '--task', 'pos', '--gold', data, '--pred', pred, '--format', 'abc'], names: lookup('--format', 'abc') },
    { args: ['score', '--task', 'pos', '--gold', data, '--pred', pred, '--option', 'noequals'], names: ['--option'] },
    { args: ['plugins', '--plugin', join(root, 'no-such-plugin.js')], names: ['no-such-plugin.js'] },
    // A data file as the folder of the output: a message naming the file in the way, not a crash.
    { args: ['schema', '--out', join(data, 'schema.json')], names: [`EEXIST at mkdir ${data}`, 'schema.json'] },
  ];
}

const COMMANDS = ['average', 'encode', 'evaluate', 'plan', 'plugins', 'quickstart', 'run', 'schema', 'score', 'submit', 'train'] as const;

describe('xlt under bad flag values', () => {
  it('refuses every bad value of every numeric flag (in-process)', async () => {
    const failures: string[] = [];
    for (const { flag, kind, args } of numericFlags()) {
      for (const value of BAD[kind]) {
        const out = freshOut();
        const argv = [...args(out), flag, value];
        const problem = unclean(await inProcess(argv), [flag], out);
        if (problem) failures.push(`xlt ${JSON.stringify(argv)}\n  → ${problem}`);
      }
    }
    fail('numeric flags', failures);
  });

  it('refuses malformed --set values before reading the config (in-process)', async () => {
    const failures: string[] = [];
    for (const set of ['noequals', '=1', 'a..b=1', '.a=1', 'grid.seeds=', 'grid.seeds=[', 'grid.seeds={a: [}', 'a[x]=1', 'grid.seeds="unterminated']) {
      const out = freshOut();
      const argv = ['plan', join(root, 'no-such-config.json'), '--out', out, '--set', set];
      const problem = unclean(await inProcess(argv), ['--set'], out);
      if (problem) failures.push(`xlt ${JSON.stringify(argv)}\n  → ${problem}`);
    }
    fail('--set', failures);
  });

  describe('through the built CLI', () => {
    // Every process runs once, in parallel, before the per-command checks read their outcomes.
    const outcomes = new Map<CliCase, Outcome>();
    beforeAll(async () => {
      const cases = cliCases();
      expect(cases.length).toBeLessThanOrEqual(60);
      await pooled(cases, async (c) => void outcomes.set(c, await xlt(c.args, 60_000)));
    });

    it('covers every command', () => {
      expect(new Set([...outcomes.keys()].map((c) => c.args[0]))).toEqual(new Set(COMMANDS));
    });

    it.each(COMMANDS)('xlt %s refuses its bad flag values', (command) => {
      const failures = [...outcomes]
        .filter(([c]) => c.args[0] === command)
        .map(([c, o]) => {
          const problem = unclean(o, c.names, c.out);
          return problem && `xlt ${JSON.stringify(c.args)}\n  → ${problem}`;
        })
        .filter((f): f is string => Boolean(f));
      fail(`xlt ${command}`, failures);
    });
  });
});
