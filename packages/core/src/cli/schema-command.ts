import type { Command } from 'commander';
import { writeFileAtomic } from '@xlt/plugin-api';
import { experimentJsonSchemaText } from './config-schema.js';

/**
 * Adds `xlt schema [--out FILE]`: prints (or writes atomically) the JSON Schema of the experiment config, for
 * editors (`"$schema"` in a JSON config, `# yaml-language-server: $schema=...` in a YAML one).
 */
export function addSchemaCommand(program: Command): Command {
  return program
    .command('schema')
    .description('Print the JSON Schema of the experiment config (for editor completion and checks); --out writes it to a file')
    .option('--out <file>', 'write the schema to this file instead of printing it')
    .exitOverride()
    .action(async (opts: { out?: string }) => {
      const text = experimentJsonSchemaText();
      if (opts.out) {
        await writeFileAtomic(opts.out, text);
        process.stderr.write(`[xlt] wrote the experiment config schema to ${opts.out}\n`);
      } else process.stdout.write(text);
    });
}
