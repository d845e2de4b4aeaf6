// History commands (/history, /search, /logging, /privacy logging), as in Profanity; spliced into
// the table by table.ts. They act on the core's local history and the server archive.
import type { CoreApi, OlderPage } from '../core/api.js';
import { UsageError } from './parser.js';
import type { CommandContext, CommandDef } from './command-def.js';

const info = (ctx: CommandContext, message: string) => ctx.emit({ event: 'info', message });

function need<K extends 'historyRecent' | 'fetchOlder' | 'historySearch' | 'historyLogging'>(core: CoreApi, k: K): NonNullable<CoreApi[K]> {
  const f = core[k];
  if (!f) throw new Error('history is not available in this session');
  return (f as (...a: never[]) => unknown).bind(core) as NonNullable<CoreApi[K]>;
}

export const LOGGING_TEXT = {
  on: 'chat logging is on: messages are stored in this profile',
  redact: 'chat logging is redacted: who and when are stored, message text is not',
  off: 'chat logging is off: new messages are not stored',
} as const;

/**
 * What the top of a window says after a PageUp there: nothing when older lines came, else where
 * the search stopped and why, truthfully (local history and the archive are different places).
 */
export function olderPageText(jid: string, p: OlderPage): string | undefined {
  const n = p.unreadable ?? 0;
  const unreadable = n ? `${n} older encrypted message${n === 1 ? '' : 's'} cannot be shown: not in local history, and OMEMO keys are not kept for old messages` : '';
  if (p.shown > 0 && !p.atStart) return unreadable ? `-- ${unreadable} --` : undefined;
  if (p.archiveSkipped) return `-- no older messages with ${jid} in local history; ${p.archiveSkipped} --`;
  if (p.atStart) return `-- start of the conversation with ${jid}: nothing older in local history or in the server archive${unreadable ? ` (${unreadable})` : ''} --`;
  return `-- ${unreadable || 'nothing readable in this page of the server archive'}; PageUp asks for the next page --`;
}

/** The time of the oldest message the TUI's current window shows, when it is the chat named. */
function oldestShown(ctx: CommandContext, chat: string | undefined): string | undefined {
  const w = ctx.windows?.current();
  if (!w || (chat !== undefined && w.jid !== chat.toLowerCase())) return undefined;
  const l = w.lines.find((x) => x.from !== undefined && !x.cont);
  return l ? new Date(l.time).toISOString() : undefined;
}

async function older(ctx: CommandContext, jid: string | undefined): Promise<void> {
  const before = oldestShown(ctx, jid ?? ctx.core.currentChat());
  const page = await need(ctx.core, 'fetchOlder')(jid, before ? { before } : {});
  if (!page) return;
  const chat = jid ?? ctx.core.currentChat() ?? '';
  info(ctx, olderPageText(chat, page) ?? `${page.shown} older message${page.shown === 1 ? '' : 's'} with ${chat} from ${page.from === 'local' ? 'local history' : 'the server archive'}`);
}

async function openHit(ctx: CommandContext, n: number): Promise<void> {
  if (!ctx.windows) throw new Error('/search open needs the full-screen UI (run `xchat` without a subcommand)');
  const hit = ctx.windows.searchHit(n);
  // The messages around the hit first, so the window shows it in its place among them.
  await ctx.core.historyAround?.(hit.chat, hit.stamp);
  ctx.windows.openSearchHit(n);
}

export const HISTORY_COMMANDS: readonly CommandDef[] = [
  {
    name: '/history',
    synopsis: ['/history [N]', '/history older [JID]'],
    description:
      'Show the last N (default 20) stored messages of the current chat; older: the next older page, from local history while it has older messages, then from the server archive (PageUp at the top of a window does the same, and says so at the start of the conversation).',
    args: [
      { name: 'N', description: 'How many messages.' },
      { name: 'older [JID]', description: 'Page back through local history, then the server archive (default: the current chat).' },
    ],
    examples: ['/history', '/history 100', '/history older'],
    complete: (_ctx, a) => (a.length === 0 ? ['older'] : []),
    async handler(ctx, args) {
      if (args[0] === 'older') {
        if (args.length > 2) throw new UsageError(`unexpected argument "${args[2]}"`);
        await older(ctx, args[1]);
        return;
      }
      if (args.length > 1) throw new UsageError(`unexpected argument "${args[1]}"`);
      let n = 20;
      if (args[0] !== undefined) {
        if (!/^\d+$/.test(args[0]) || Number(args[0]) < 1) throw new UsageError(`"${args[0]}" is not a number of messages`);
        n = Number(args[0]);
      }
      await need(ctx.core, 'historyRecent')(n);
    },
  },
  {
    name: '/search',
    synopsis: ['/search TEXT', '/search all TEXT', '/search open N'],
    description:
      'Search stored messages for all words of TEXT: in the current chat, or in every chat with all. The hits are listed numbered, oldest first, with their window, time and sender, the words marked; open N shows hit N in its window, among the messages around it.',
    args: [
      { name: 'TEXT', description: 'Words the message must contain.' },
      { name: 'all', description: 'Search every chat of the account.' },
      { name: 'open N', description: 'Hit N of the last search, in its window (full-screen UI).' },
    ],
    examples: ['/search pizza', '/search all meeting tomorrow', '/search open 2'],
    complete: (_ctx, a) => (a.length === 0 ? ['all', 'open'] : []),
    async handler(ctx, args, raw) {
      if (args[0] === 'open' && args.length === 2 && /^\d+$/.test(args[1])) return openHit(ctx, Number(args[1]));
      const all = args[0] === 'all';
      const text = raw.rest(all ? 1 : 0).trim();
      if (!text) throw new UsageError('missing TEXT to search for');
      await need(ctx.core, 'historySearch')(text, { all });
    },
  },
  {
    name: '/logging',
    synopsis: ['/logging [on|off]'],
    description: 'Store chat messages in this profile (on, the default) or not (off). Without argument: show the setting.',
    args: [{ name: 'on|off', description: 'on: store messages; off: store nothing new.' }],
    examples: ['/logging', '/logging off'],
    complete: (_ctx, a) => (a.length === 0 ? ['on', 'off'] : []),
    async handler(ctx, args) {
      if (args.length > 1) throw new UsageError(`unexpected argument "${args[1]}"`);
      if (args[0] !== undefined && args[0] !== 'on' && args[0] !== 'off') throw new UsageError(`invalid setting "${args[0]}" (on|off)`);
      const mode = await need(ctx.core, 'historyLogging')(args[0]);
      info(ctx, LOGGING_TEXT[mode]);
    },
  },
];

/** /privacy logging: a subcommand of /privacy (privacy-command.ts). */
export const PRIVACY_LOGGING: CommandDef = {
  name: 'logging',
  synopsis: ['/privacy logging on|redact|off'],
  description: 'on: store messages; redact: store metadata but no message text; off: store nothing.',
  args: [{ name: 'on|redact|off', description: 'The logging mode.' }],
  examples: ['/privacy logging redact', '/privacy logging on'],
  complete: (_ctx, a) => (a.length === 0 ? ['on', 'redact', 'off'] : []),
  async handler(ctx, args) {
    if (args.length > 1) throw new UsageError(`unexpected argument "${args[1]}"`);
    const v = args[0];
    if (v !== undefined && v !== 'on' && v !== 'redact' && v !== 'off') throw new UsageError(`invalid setting "${v}" (on|redact|off)`);
    const mode = await need(ctx.core, 'historyLogging')(v);
    info(ctx, LOGGING_TEXT[mode]);
  },
};
