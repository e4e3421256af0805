#!/usr/bin/env node
// The `xlt` command. A committed shim, so that npm can link it before the TypeScript build has run.
import { runCli } from '../dist/cli/program.js';

process.exitCode = await runCli(process.argv.slice(2));
