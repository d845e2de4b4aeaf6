// Generates docs/commands.md from the command table (`npm run docs`). A test fails when the
// committed file differs from what this produces.
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { COMMANDS, type CommandDef } from './table.js';

function section(c: CommandDef, level: string): string[] {
  const out: string[] = [`${level} ${c.synopsis[0].split(' ').slice(0, c.name.startsWith('/') ? 1 : 2).join(' ')}`, ''];
  out.push('```', ...c.synopsis, '```', '', c.description, '');
  if (c.args.length) {
    out.push('Arguments:', '');
    for (const a of c.args) out.push(`- \`${a.name}\`: ${a.description}`);
    out.push('');
  }
  if (c.examples.length) {
    out.push('Examples:', '', '```', ...c.examples, '```', '');
  }
  for (const s of c.subcommands ?? []) out.push(...section(s, `${level}#`));
  return out;
}

export function renderCommandsMarkdown(table: readonly CommandDef[] = COMMANDS): string {
  const out: string[] = [
    '# xchat commands',
    '',
    '<!-- Generated from src/commands/table.ts by `npm run docs`; do not edit by hand. -->',
    '',
    'Type these in the TUI or pipe them to `xchat run`. Lines that do not start with `/` are sent to',
    'the current chat. Arguments with spaces can be quoted: `"a b"`, with `\\"` inside quotes.',
    '',
    '| Command | Summary |',
    '| --- | --- |',
    ...table.map((c) => `| [\`${c.name}\`](#${c.name.slice(1)}) | ${c.description.split('. ')[0].replace(/\.$/, '')}. |`),
    '',
  ];
  for (const c of table) out.push(...section(c, '##'));
  return out.join('\n').replace(/\n+$/, '\n');
}

export const COMMANDS_MD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/commands.md');

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  writeFileSync(COMMANDS_MD, renderCommandsMarkdown());
  console.log(`wrote ${COMMANDS_MD}`);
}
