import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './pack.js';

/** What one `xlt` invocation printed and how it ended. */
export interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built `xlt` from the repository root, as a user would, with `env` (default this process's); never rejects. */
export function xlt(args: readonly string[], timeout = 300_000, env: NodeJS.ProcessEnv = process.env): Promise<Outcome> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [join('packages', 'core', 'bin', 'xlt.js'), ...args],
      { cwd: repoRoot, env, timeout, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}
