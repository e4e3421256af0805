import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Global setup of the data suite (`npm run test:data`): the suite reads the real benchmark files in
 * `../shared/data` (or `XLT_SHARED`). Without them it fails loudly instead of skipping.
 */
export default function setup(): void {
  const shared = resolve(process.env.XLT_SHARED ?? resolve(import.meta.dirname, '../../shared'));
  process.env.XLT_SHARED = shared;
  if (!existsSync(resolve(shared, 'data')) || !existsSync(resolve(shared, 'models'))) {
    throw new Error(
      `The data suite needs the shared benchmark folder, expected at ${shared} (with data/ and models/). ` +
        `Set XLT_SHARED to its path, or run only the offline suite with \`npm test\`.`,
    );
  }
}
