#!/usr/bin/env node
// Builds the optional native addon with node-gyp. The backend is optional: when the build fails (no compiler, no
// OpenBLAS, no node-gyp) this prints one warning and exits 0, so `npm ci` stays clean and xlt falls back to TF.js.
// `--strict` (npm run build:addon) exits non-zero instead, for people who want to see the error.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const strict = process.argv.includes('--strict');
const reasonFile = join(root, 'build', 'build-failure.txt');

function findNodeGyp() {
  const require = createRequire(import.meta.url);
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {}
  const npmDir = process.env.npm_execpath ? dirname(dirname(process.env.npm_execpath)) : null;
  for (const dir of [npmDir, join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm'), '/usr/lib/node_modules/npm', '/usr/local/lib/node_modules/npm']) {
    if (dir && existsSync(join(dir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'))) return join(dir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  }
  return null;
}

function run() {
  if (process.env.XLT_SKIP_NATIVE === '1') return 'XLT_SKIP_NATIVE=1 is set';
  const gyp = findNodeGyp();
  if (!gyp) return 'node-gyp not found';
  const args = [gyp, 'rebuild'];
  // Offline machines: use the installed Node headers instead of downloading them.
  const prefix = join(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  if (r.status === 0) return null;
  const lines = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n').filter((l) => /error|not found|No such file/i.test(l));
  return lines.slice(0, 3).join(' | ').trim() || `node-gyp exited with ${r.status}`;
}

const reason = run();
if (reason === null) {
  process.exit(0);
}
try {
  mkdirSync(dirname(reasonFile), { recursive: true });
  writeFileSync(reasonFile, `${reason}\n`);
} catch {}
console.warn(`@xlt/backend-native: native addon not built (${reason}); xlt will train with TF.js instead. Needs g++, node-gyp and OpenBLAS (Debian: libopenblas-dev).`);
process.exit(strict ? 1 : 0);
