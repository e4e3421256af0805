// One libFuzzer process: `node lib/child.mjs <target.mjs> [libFuzzer flags and corpus dirs or files]`.
// run.mjs starts it as a child because libFuzzer ends the process itself (exit() when done, _Exit on a crash).
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startCoverage } from './coverage.mjs';

const [targetPath, ...flags] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const { runFuzzer } = require(resolve(import.meta.dirname, '..', 'build', 'libfuzzer-driver.node'));
const target = await import(pathToFileURL(resolve(targetPath)).href);

// libFuzzer's loop never yields to the event loop, so queued work (process warnings that yaml emits, say) would only
// pile up: targets must be synchronous, and warnings are dropped rather than queued.
process.emitWarning = () => {};

const counters = new Uint8Array(1 << 16);
const prefixes = target.coverage.map((p) => pathToFileURL(p).href);
const coverage = startCoverage(counters, (url) => prefixes.some((p) => url.startsWith(p)));

// libFuzzer re-runs argv[0] through the shell for -jobs and -fork, so it must be a command line, not a script.
const self = [process.execPath, import.meta.filename, resolve(targetPath)].join(' ');
runFuzzer(
  [self, ...flags],
  (data) => {
    try {
      target.fuzz(data);
    } finally {
      coverage.collect();
    }
  },
  counters,
);
