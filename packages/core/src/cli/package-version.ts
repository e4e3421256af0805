import { readFileSync } from 'node:fs';

/** The version in `@xlt/core`'s package.json (the same relative path from `src/cli` and from `dist/cli`). */
export function coreVersion(): string {
  const file = new URL('../../package.json', import.meta.url);
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: unknown };
  if (manifest.name !== '@xlt/core' || typeof manifest.version !== 'string') {
    throw new Error(`${file.pathname}: expected the package.json of @xlt/core with a "version", found ${JSON.stringify({ name: manifest.name, version: manifest.version })}`);
  }
  return manifest.version;
}
