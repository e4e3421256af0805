/**
 * Vitest settings shared by every package: tests import sibling packages from their TypeScript sources
 * (the `@xlt/source` export condition), so `nx test` needs no prior build of dependencies.
 */
export function xltVitest(root: string, include = ['src/**/*.spec.ts']) {
  return {
    root,
    resolve: { conditions: ['@xlt/source'] },
    ssr: { resolve: { conditions: ['@xlt/source'] } },
    test: {
      include,
      environment: 'node',
      testTimeout: 120_000,
      hookTimeout: 120_000,
      pool: 'forks' as const,
    },
  };
}
