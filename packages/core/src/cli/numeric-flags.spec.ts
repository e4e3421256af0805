import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from './program.js';

/** Runs the CLI in-process and returns its exit code and everything it wrote to stderr. */
async function runCaptured(argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const code = await runCli(argv, { noDiscovery: true });
  vi.restoreAllMocks();
  return { code, stderr };
}

const evaluate = ['evaluate', '--task', 'nli', '--model', 'no-such-model', '--data', 'no-such-data.tsv'];

describe('numeric flags on the command line', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each([
    [[...evaluate, '--batch-size', '0'], "option '--batch-size <n>' argument '0' is invalid", '--batch-size must be a whole number >= 1, found "0".'],
    [[...evaluate, '--batch-size', '-1'], "option '--batch-size <n>' argument '-1' is invalid", '--batch-size must be a whole number >= 1, found "-1".'],
    [[...evaluate, '--batch-size', 'abc'], "option '--batch-size <n>' argument 'abc' is invalid", '--batch-size must be a whole number >= 1, found "abc".'],
    [[...evaluate, '--max-length', 'abc'], "option '--max-length <n>' argument 'abc' is invalid", '--max-length must be a whole number >= 1, found "abc".'],
    [['quickstart', '--seed', 'abc', '--out', 'never-written'], "option '--seed <n>' argument 'abc' is invalid", '--seed must be a whole number, found "abc".'],
    [['encode', '--model', 'm', '--input', 'i', '--out', 'o', '--batch-size', '0'], "option '--batch-size <n>' argument '0' is invalid", '--batch-size must be a whole number >= 1, found "0".'],
  ])('%j exits 1 naming the flag, without a stack trace', async (argv, commanderLine, detail) => {
    const { code, stderr } = await runCaptured(argv);
    expect(code).toBe(1);
    expect(stderr).toContain(`error: ${commanderLine}. ${detail}`);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr).not.toContain('unexpected error');
  });
});
