import { InputError } from '../errors.js';

/** Parses `key=value` flags; values are JSON when they parse as JSON (`true`, `3`, `"x"`), else strings. */
export function parseKeyValues(flags: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new InputError([{ path: '--option', expected: 'key=value', found: JSON.stringify(flag) }]);
    const raw = flag.slice(eq + 1);
    try {
      out[flag.slice(0, eq)] = JSON.parse(raw);
    } catch {
      out[flag.slice(0, eq)] = raw;
    }
  }
  return out;
}
