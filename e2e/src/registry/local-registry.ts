import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from '../pack.js';

/** A Verdaccio registry on loopback, with its storage in a temporary folder. */
export interface LocalRegistry {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string;
  /** Token of the user the test registered (publishing needs one). */
  readonly token: string;
  /**
   * An npm user config that points every scope at this registry and carries the token; pass it as
   * `npm_config_userconfig` so the user's own `~/.npmrc` is neither read nor changed.
   */
  readonly npmrc: string;
  /** Verdaccio's log file (read it when something fails). */
  readonly log: string;
  /** Environment for npm commands: this registry, the user config above and an empty cache of its own. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** A free TCP port on loopback (the kernel picks it; Verdaccio cannot report a port it chose itself). */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/**
 * Verdaccio's config: local storage only, no uplinks (the suite runs without network, so every third-party
 * package the consumer needs is seeded; see `seed-registry.ts`), anyone may read, a registered user may publish.
 * The body limit is raised for the largest seeded tarball (tokenizers ships 13 prebuilt binaries, ~64 MB).
 */
function verdaccioConfig(dir: string): string {
  return [
    `storage: ${JSON.stringify(join(dir, 'storage'))}`,
    'auth:',
    '  htpasswd:',
    `    file: ${JSON.stringify(join(dir, 'htpasswd'))}`,
    '    max_users: 10',
    'uplinks: {}',
    'packages:',
    "  '**':",
    '    access: $all',
    '    publish: $authenticated',
    '    unpublish: $authenticated',
    'web:',
    '  enable: false',
    'max_body_size: 400mb',
    'publish:',
    '  allow_offline: true',
    'log: { type: stdout, format: pretty, level: warn }',
    '',
  ].join('\n');
}

async function waitForPing(url: string, child: ChildProcess, log: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`${url}/-/ping`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const text = await readFile(log, 'utf8').catch(() => '');
  throw new Error(`Verdaccio did not answer ${url}/-/ping within ${timeoutMs} ms (exit code ${child.exitCode}). Its log:\n${text}`);
}

/** Registers a user through the CouchDB-style endpoint `npm adduser` uses, returning its token. */
async function addUser(url: string): Promise<string> {
  const name = 'xlt-test';
  const res = await fetch(`${url}/-/user/org.couchdb.user:${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ _id: `org.couchdb.user:${name}`, name, password: 'xlt-test-password', email: 'test@example.invalid', type: 'user', roles: [], date: new Date().toISOString() }),
  });
  const body = (await res.json()) as { token?: string; error?: string };
  if (!res.ok || !body.token) throw new Error(`Verdaccio refused to add a user: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

/**
 * Starts Verdaccio (the workspace's dev dependency) on a free loopback port, with config, storage, htpasswd, log
 * and npm cache under `dir`, and registers a user. The caller stops it; a registry that fails to start is killed.
 */
export async function startLocalRegistry(dir: string): Promise<LocalRegistry> {
  await mkdir(dir, { recursive: true });
  const config = join(dir, 'config.yaml');
  await writeFile(config, verdaccioConfig(dir));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = join(dir, 'verdaccio.log');
  const out = createWriteStream(log);
  const bin = join(repoRoot, 'node_modules', 'verdaccio', 'bin', 'verdaccio');
  const child = spawn(process.execPath, [bin, '--config', config, '--listen', `127.0.0.1:${port}`], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    out.end();
  };
  try {
    await waitForPing(url, child, log, 60_000);
    const token = await addUser(url);
    const npmrc = join(dir, 'npmrc');
    const host = url.replace(/^http:/, '');
    await writeFile(npmrc, `registry=${url}/\n${host}/:_authToken=${token}\n`);
    const cache = join(dir, 'npm-cache');
    return {
      url,
      token,
      npmrc,
      log,
      env: (extra = {}) => ({
        ...process.env,
        npm_config_registry: `${url}/`,
        npm_config_userconfig: npmrc,
        npm_config_cache: cache,
        npm_config_audit: 'false',
        npm_config_fund: 'false',
        npm_config_update_notifier: 'false',
        ...extra,
      }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
