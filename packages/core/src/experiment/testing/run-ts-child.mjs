// Runs an exported `main(args)` of a TypeScript module in a plain Node process, through Vite's module runner with
// the workspace's `@xlt/source` condition (tests need a child process they can SIGKILL; Node 20 cannot run .ts).
import { createServer, createServerModuleRunner } from 'vite';

const [, , root, entry, ...args] = process.argv;
const server = await createServer({
  root,
  configFile: false,
  logLevel: 'error',
  appType: 'custom',
  resolve: { conditions: ['@xlt/source'] },
  ssr: { resolve: { conditions: ['@xlt/source'] } },
  server: { middlewareMode: true, hmr: false, ws: false },
  optimizeDeps: { noDiscovery: true, include: [] },
});
const runner = createServerModuleRunner(server.environments.ssr, { hmr: false });
try {
  const mod = await runner.import(entry);
  await mod.main(args);
} finally {
  await runner.close();
  await server.close();
}
