// Window commands (/win, /wins, /close, /clear, /notify): declared like every other command and
// spliced into the table by table.ts. They act on ctx.windows, which only the TUI provides.
import type { ThemesApi, WindowsApi, Window } from './windows-api.js';
import { UsageError } from './parser.js';
import type { CommandContext, CommandDef } from './command-def.js';

function windows(ctx: CommandContext): WindowsApi {
  if (!ctx.windows) throw new Error('windows exist only in the full-screen UI (run `xchat` without a subcommand)');
  return ctx.windows;
}

const info = (ctx: CommandContext, message: string) => ctx.emit({ event: 'info', message });

function themes(ctx: CommandContext): ThemesApi {
  if (!ctx.themes) throw new Error('themes exist only in the full-screen UI (run `xchat` without a subcommand)');
  return ctx.themes;
}

async function listThemes(ctx: CommandContext): Promise<void> {
  const t = themes(ctx);
  const list = await t.list();
  const width = Math.max(...list.map((x) => x.name.length));
  info(
    ctx,
    [
      `themes (terminal: ${t.colours()}):`,
      ...list.map((x) => `  ${x.current ? '*' : ' '} ${x.name.padEnd(width)}  ${x.description}${x.source === 'built-in' ? '' : ` (${x.source})`}`),
      'Your own: <profile>/themes/NAME.json (see docs/themes.md); /theme load NAME',
    ].join('\n'),
  );
}

export function describeWindow(w: Window, current: boolean): string {
  const marks = [
    current ? 'current' : undefined,
    w.unread ? `${w.unread} unread` : undefined,
    w.kind === 'chat' ? (w.encryption === 'omemo' ? 'OMEMO' : w.encryption === 'none' ? 'unencrypted' : undefined) : undefined,
  ].filter(Boolean);
  return `  ${w.num}: ${w.name}${marks.length ? ` (${marks.join(', ')})` : ''}`;
}

function parseNum(s: string): number | undefined {
  return /^\d+$/.test(s) ? Number(s) : undefined;
}

const winNumbers = (ctx: CommandContext, chatsOnly = false) =>
  (ctx.windows?.list() ?? []).filter((w) => !chatsOnly || w.kind === 'chat').map((w) => String(w.num));

const THEME_COMMAND: CommandDef = {
  name: '/theme',
  synopsis: ['/theme [list]', '/theme load NAME'],
  description:
    'Colours and attributes of the full-screen UI. Built in: default (Profanity-like colours) and monochrome (bold, underline and reverse video only); your own in the profile as themes/NAME.json. The theme loaded is remembered. NO_COLOR (or FORCE_COLOR=0, TERM=dumb) drops every colour whatever the theme; FORCE_COLOR=1|2|3 forces 16, 256 or truecolor.',
  args: [],
  examples: ['/theme', '/theme load monochrome', '/theme load default'],
  handler: (ctx, args) => {
    if (args.length > 0) throw new UsageError(`unknown option "${args[0]}" (list|load)`);
    return listThemes(ctx);
  },
  subcommands: [
    {
      name: 'list',
      synopsis: ['/theme list'],
      description: 'List the themes (the one in use marked *) and the colours the terminal shows.',
      args: [],
      examples: ['/theme list'],
      handler(ctx, args) {
        if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`);
        return listThemes(ctx);
      },
    },
    {
      name: 'load',
      synopsis: ['/theme load NAME'],
      description: 'Use theme NAME now and from the next start on.',
      args: [{ name: 'NAME', description: 'A built-in theme or a file themes/NAME.json in the profile.' }],
      examples: ['/theme load monochrome'],
      complete: (ctx, a) => (a.length === 0 ? ['default', 'monochrome'] : []),
      async handler(ctx, args) {
        if (!args[0]) throw new UsageError('missing NAME (/theme list shows them)');
        if (args.length > 1) throw new UsageError(`unexpected argument "${args[1]}"`);
        const t = await themes(ctx).load(args[0]);
        info(ctx, `theme ${t.name} loaded (${t.description}); kept for the next start`);
      },
    },
  ],
};

export const WINDOW_COMMANDS: readonly CommandDef[] = [
  {
    name: '/win',
    synopsis: ['/win N', '/win JID'],
    description: 'Switch to window N (1 is the console) or to the chat window of JID (full-screen UI only, like every window command; `xchat run` answers with an error). Keys: Alt+1…Alt+0, F1…F10, Alt+Left/Right, Alt+a (next with unread).',
    args: [
      { name: 'N', description: 'Window number, as shown in the status bar.' },
      { name: 'JID', description: 'A contact whose chat window is open.' },
    ],
    examples: ['/win 2', '/win bob@example.org'],
    complete(ctx, a) {
      if (a.length > 0) return [];
      return [...winNumbers(ctx), ...(ctx.windows?.list() ?? []).flatMap((w) => (w.jid ? [w.name] : []))];
    },
    handler(ctx, args) {
      if (args.length === 0) throw new UsageError('missing window number or JID');
      if (args.length > 1) throw new UsageError(`unexpected argument "${args[1]}"`);
      const w = windows(ctx);
      const n = parseNum(args[0]);
      const target = n ?? args[0];
      if (!w.focus(target)) throw new UsageError(n !== undefined ? `no window ${n} (see /wins)` : `no window for ${args[0]} (open one with /msg ${args[0]})`);
    },
  },
  {
    name: '/wins',
    synopsis: ['/wins', '/wins unread', '/wins prune'],
    description: 'List the windows (full-screen UI only); unread: only those with unread messages; prune: close every chat window without unread messages (but the current one).',
    args: [],
    examples: ['/wins', '/wins unread', '/wins prune'],
    complete: (_ctx, a) => (a.length === 0 ? ['unread', 'prune'] : []),
    handler(ctx, args) {
      if (args.length > 1) throw new UsageError(`unexpected argument "${args[1]}"`);
      const w = windows(ctx);
      const mode = args[0]?.toLowerCase();
      if (mode === 'prune') {
        const closed = w.prune();
        info(ctx, closed.length ? `closed window${closed.length === 1 ? '' : 's'} ${closed.join(', ')}` : 'no window to prune');
        return;
      }
      if (mode !== undefined && mode !== 'unread') throw new UsageError(`unknown option "${args[0]}" (unread|prune)`);
      const cur = w.current().num;
      const list = w.list().filter((x) => mode !== 'unread' || x.unread > 0);
      if (list.length === 0) info(ctx, 'no windows with unread messages');
      else info(ctx, ['windows:', ...list.map((x) => describeWindow(x, x.num === cur))].join('\n'));
    },
  },
  {
    name: '/close',
    synopsis: ['/close [N]'],
    description: 'Close window N (default: the current one; full-screen UI only). Closing a room\'s window leaves the room, as in Profanity. The console (1) stays.',
    args: [{ name: 'N', description: 'Window number.' }],
    examples: ['/close', '/close 3'],
    complete: (ctx, a) => (a.length === 0 ? winNumbers(ctx, true) : []),
    async handler(ctx, args) {
      if (args.length > 1) throw new UsageError(`unexpected argument "${args[1]}"`);
      const w = windows(ctx);
      let n: number | undefined;
      if (args[0] !== undefined) {
        n = parseNum(args[0]);
        if (n === undefined) throw new UsageError(`"${args[0]}" is not a window number`);
      }
      const target = n === undefined ? w.current() : w.list().find((x) => x.num === n);
      if (target?.room && target.jid && ctx.core.muc?.isRoom(target.jid)) await ctx.core.muc.leave(target.jid);
      try {
        w.close(n);
      } catch (e) {
        throw new UsageError(e instanceof Error ? e.message : String(e));
      }
    },
  },
  {
    name: '/clear',
    synopsis: ['/clear'],
    description: 'Clear the current window (full-screen UI only).',
    args: [],
    examples: ['/clear'],
    handler(ctx, args) {
      if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`);
      windows(ctx).clear();
    },
  },
  THEME_COMMAND,
  {
    name: '/notify',
    synopsis: ['/notify [on|off]'],
    description: 'Bell and terminal title for new messages in other windows (full-screen UI only). Without a value: show the setting.',
    args: [{ name: 'on|off', description: 'Turn notifications on or off.' }],
    examples: ['/notify off'],
    complete: (_ctx, a) => (a.length === 0 ? ['on', 'off'] : []),
    handler(ctx, args) {
      if (args.length > 1) throw new UsageError(`unexpected argument "${args[1]}"`);
      const v = args[0]?.toLowerCase();
      if (v !== undefined && v !== 'on' && v !== 'off') throw new UsageError(`invalid value "${args[0]}" (on|off)`);
      const on = windows(ctx).notify(v === undefined ? undefined : v === 'on');
      info(ctx, `notifications ${on ? 'on' : 'off'}`);
    },
  },
];
