import type { Command } from 'commander';
import type { CliCommand, Engine } from '@xlt/plugin-api';

/** Lines of `xlt plugins`: each extension point with one line per plugin. */
export function listPlugins(engine: Engine): string[] {
  const lines: string[] = [];
  for (const { kind, plugins } of engine.extensionPoints()) {
    lines.push(`${kind}s:`.replace(/ys:$/, 'ies:'));
    if (plugins.length === 0) lines.push('  (none)');
    const width = Math.max(0, ...plugins.map((p) => p.id.length));
    for (const p of plugins) lines.push(`  ${p.id.padEnd(width)}  ${p.description}`);
  }
  return lines;
}

/** `xlt plugins`: lists every registered task, strategy, backend, tokenizer, encoder, trainer and sink. */
export const pluginsCommand: CliCommand = {
  id: 'plugins',
  description: 'List every registered task, averaging strategy, backend, tokenizer, encoder, trainer and results sink',
  configure(command: Command, engine: Engine) {
    command.option('--json', 'print as JSON').action((opts: { json?: boolean }) => {
      if (opts.json) {
        const out = Object.fromEntries(
          engine.extensionPoints().map(({ kind, plugins }) => [kind, plugins.map((p) => ({ id: p.id, description: p.description }))]),
        );
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      } else {
        process.stdout.write(`${listPlugins(engine).join('\n')}\n`);
      }
    });
  },
};
