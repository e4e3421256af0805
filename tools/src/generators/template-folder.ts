import { join } from 'node:path';

/**
 * Folder of a generator's templates, `tools/templates/<generator>`. Sources (`src/generators/<g>/`) and build
 * output (`dist/generators/<g>/`) lie at the same depth, so one relative path serves both.
 */
export function templateFolder(generator: string, from: string): string {
  return join(from, '..', '..', '..', 'templates', generator);
}
