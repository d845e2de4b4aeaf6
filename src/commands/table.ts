// THE command table (in the spirit of Profanity's cmd_defs.c): every command is declared once
// here; parsing, /help, completion and docs/commands.md all read from it.
import { displayFingerprint, parseFingerprintWords } from '../lib/fingerprint.js';
import type { AccountSettings, CoreApi, DeviceView, OmemoPolicy, TlsPolicy, TrustMode, XchatEvent } from '../core/api.js';
import { UsageError } from './parser.js';
import type { WindowsApi } from '../core/windows.js';
import { WINDOW_COMMANDS } from './window-commands.js';
import { HISTORY_COMMANDS } from './history-commands.js';
import { MUC_COMMANDS } from './muc-commands.js';
import { FILE_COMMANDS } from './file-commands.js';
import { OMEMO_UX_SUBCOMMANDS, OMEMO_UX_SYNOPSIS, UX_COMMANDS } from './ux-commands.js';

export interface ArgSpec {
  name: string;
  description: string;
}

export interface CommandContext {
  core: CoreApi;
  /** Shows something to the user (help text, lists, command errors). */
  emit(e: XchatEvent): void;
  /** Roster and other known JIDs, for completion. */
  knownJids(): string[];
  /** Known fingerprints (64 hex) of a JID, for completion of /omemo trust|untrust. */
  fingerprintsFor(jid: string): string[];
  /** Configured account JIDs, for completion of /connect and /account. */
  accountJids(): string[];
  /** Password to pass to connect, when the front end has one (e.g. --password-file). */
  password(jid: string): Promise<string | undefined>;
  /** Asks the front end to end after pending sends (set by /quit). */
  quit(): void;
  /** The TUI's windows (/win, /wins, /close, /clear, /notify); absent in `xchat run`. */
  windows?: WindowsApi;
  table: readonly CommandDef[];
}

/** Arguments after the command (and subcommand) word. rest(i): raw text from argument i on. */
export interface RawArgs {
  rest(i: number): string;
}

export interface CommandDef {
  /** '/connect' for commands, 'trust' for subcommands. */
  name: string;
  synopsis: string[];
  description: string;
  args: ArgSpec[];
  subcommands?: CommandDef[];
  examples: string[];
  /** Candidates for the next argument, given the complete arguments typed so far. */
  complete?: (ctx: CommandContext, argsSoFar: string[]) => string[];
  /** Absent on commands that only dispatch to subcommands. */
  handler?: (ctx: CommandContext, args: string[], raw: RawArgs) => Promise<void> | void;
}

export const TLS_POLICIES: readonly TlsPolicy[] = ['force', 'allow', 'disable'];
export const OMEMO_POLICIES: readonly OmemoPolicy[] = ['manual', 'automatic', 'always'];
export const TRUST_MODES: readonly TrustMode[] = ['manual', 'firstusage', 'blind', 'btbv'];
export const ACCOUNT_SET_KEYS = ['server', 'port', 'tls', 'eval_password', 'omemo_policy', 'trust_mode', 'max_download'] as const;

// ---- helpers ------------------------------------------------------------------------------

const info = (ctx: CommandContext, message: string) => ctx.emit({ event: 'info', message });

function looksLikeJid(s: string): boolean {
  // user@domain[/resource] or a bare domain; no spaces anywhere but in the resource.
  return /^(?:[^\s@/"]+@)?[^\s@/"]+(?:\/.+)?$/.test(s);
}

function requireJid(s: string | undefined, what = 'JID'): string {
  if (!s) throw new UsageError(`missing ${what}`);
  if (!looksLikeJid(s)) throw new UsageError(`"${s}" is not a JID`);
  return s;
}

function noMoreArgs(args: string[], n: number): void {
  if (args.length > n) throw new UsageError(`unexpected argument "${args[n]}"`);
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], what: string): T {
  if (value === undefined) throw new UsageError(`missing ${what} (${allowed.join('|')})`);
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`invalid ${what} "${value}" (${allowed.join('|')})`);
  return value as T;
}

/** Joins fingerprint words ("aaaaaaaa bbbbbbbb …", dashes, colons) into 64 lower hex. */
export function joinFingerprint(words: string[]): string {
  const r = parseFingerprintWords(words);
  if ('error' in r) throw new UsageError(r.error);
  return r.hex;
}

export const formatFp = displayFingerprint;

function describeDevice(d: DeviceView): string {
  const flags = [d.own ? 'this device' : undefined, d.trust, d.active ? 'active' : 'inactive'].filter(Boolean).join(', ');
  return `  ${d.jid} device ${d.deviceId}: ${formatFp(d.fingerprint)} (${flags})`;
}

function describeAccount(a: AccountSettings): string {
  const parts = ACCOUNT_SET_KEYS.filter((k) => a[k] !== undefined).map((k) => `${k}=${String(a[k])}`);
  return parts.length ? `  ${a.jid} ${parts.join(' ')}` : `  ${a.jid}`;
}

/** /omemo trust|untrust [JID] FP: a first word that is a JID names it, else the current chat. */
function jidAndFingerprint(ctx: CommandContext, args: string[]): { jid: string; fp: string } {
  if (args.length === 0) throw new UsageError('missing fingerprint');
  if (args[0].includes('@')) {
    return { jid: requireJid(args[0]), fp: joinFingerprint(args.slice(1)) };
  }
  const jid = ctx.core.currentChat();
  if (!jid) throw new UsageError('no current chat: name the JID');
  return { jid, fp: joinFingerprint(args) };
}

function completeTrust(ctx: CommandContext, argsSoFar: string[]): string[] {
  if (argsSoFar.length === 0) {
    const cur = ctx.core.currentChat();
    return [...(cur ? ctx.fingerprintsFor(cur) : []), ...ctx.knownJids()];
  }
  if (argsSoFar.length === 1 && argsSoFar[0].includes('@')) return ctx.fingerprintsFor(argsSoFar[0]);
  return [];
}

const jidsAt0 = (ctx: CommandContext, a: string[]) => (a.length === 0 ? ctx.knownJids() : []);

// ---- the table ----------------------------------------------------------------------------

const CONNECT_KEYS = ['server', 'port', 'tls'] as const;

export const COMMANDS: readonly CommandDef[] = [
  {
    name: '/connect',
    synopsis: ['/connect JID [server HOST] [port PORT] [tls force|allow|disable]'],
    description:
      'Connect an account. Settings saved with /account are used unless given here. The password comes from XCHAT_PASSWORD, --password-file or the account\'s eval_password.',
    args: [
      { name: 'JID', description: 'The account, user@domain.' },
      { name: 'server HOST', description: 'Connect to HOST instead of looking up the domain.' },
      { name: 'port PORT', description: 'TCP port (default 5222).' },
      { name: 'tls force|allow|disable', description: 'force: TLS required (default); allow: TLS when offered; disable: never (tests only).' },
    ],
    examples: ['/connect alice@example.org', '/connect alice@localhost server 127.0.0.1 port 5222 tls allow'],
    complete(ctx, a) {
      if (a.length === 0) return [...ctx.accountJids(), ...ctx.knownJids()];
      if (a.length % 2 === 1) return CONNECT_KEYS.filter((k) => !a.slice(1).includes(k));
      if (a[a.length - 1] === 'tls') return [...TLS_POLICIES];
      return [];
    },
    async handler(ctx, args) {
      const jid = requireJid(args[0]);
      const opts: Parameters<CoreApi['connect']>[0] = { jid };
      for (let i = 1; i < args.length; i += 2) {
        const key = args[i];
        const value = args[i + 1];
        if (!(CONNECT_KEYS as readonly string[]).includes(key)) throw new UsageError(`unknown option "${key}"`);
        if (value === undefined) throw new UsageError(`missing value for ${key}`);
        if (key === 'server') opts.server = value;
        else if (key === 'port') {
          const n = Number(value);
          if (!/^\d+$/.test(value) || n < 1 || n > 65535) throw new UsageError(`invalid port "${value}"`);
          opts.port = n;
        } else opts.tls = oneOf(value, TLS_POLICIES, 'tls');
      }
      const password = await ctx.password(jid);
      if (password !== undefined) opts.password = password;
      await ctx.core.connect(opts);
    },
  },
  {
    name: '/disconnect',
    synopsis: ['/disconnect'],
    description: 'Disconnect the current account.',
    args: [],
    examples: ['/disconnect'],
    async handler(ctx, args) {
      noMoreArgs(args, 0);
      await ctx.core.disconnect();
    },
  },
  {
    name: '/account',
    synopsis: ['/account add JID', '/account set JID KEY VALUE', '/account list', '/account remove JID'],
    description: 'Manage the accounts saved in this profile. Passwords are never stored: use eval_password.',
    args: [],
    examples: [
      '/account add alice@example.org',
      '/account set alice@example.org eval_password pass show xmpp/alice',
      '/account set alice@example.org port 5223',
      '/account list',
    ],
    subcommands: [
      {
        name: 'add',
        synopsis: ['/account add JID'],
        description: 'Add an account.',
        args: [{ name: 'JID', description: 'user@domain' }],
        examples: ['/account add alice@example.org'],
        async handler(ctx, args) {
          const jid = requireJid(args[0]);
          noMoreArgs(args, 1);
          await ctx.core.accountAdd(jid);
          info(ctx, `account ${jid} added`);
        },
      },
      {
        name: 'set',
        synopsis: ['/account set JID KEY VALUE'],
        description: 'Change a setting of an account.',
        args: [
          { name: 'JID', description: 'The account.' },
          { name: 'KEY', description: `One of ${ACCOUNT_SET_KEYS.join(', ')}.` },
          { name: 'VALUE', description: 'The rest of the line (eval_password: a shell command whose first output line is the password; max_download: the largest file /url save fetches, e.g. 100M or 2G, default 100M).' },
        ],
        examples: ['/account set alice@example.org server xmpp.example.org', '/account set alice@example.org tls force'],
        complete(ctx, a) {
          if (a.length === 0) return ctx.accountJids();
          if (a.length === 1) return [...ACCOUNT_SET_KEYS];
          if (a.length === 2) {
            if (a[1] === 'tls') return [...TLS_POLICIES];
            if (a[1] === 'omemo_policy') return [...OMEMO_POLICIES];
            if (a[1] === 'trust_mode') return [...TRUST_MODES];
          }
          return [];
        },
        async handler(ctx, args, raw) {
          const jid = requireJid(args[0]);
          const key = oneOf(args[1], ACCOUNT_SET_KEYS, 'KEY');
          if (args.length < 3) throw new UsageError(`missing value for ${key}`);
          // One (possibly quoted) word is taken unquoted; several words are taken raw.
          const value = args.length === 3 ? args[2] : raw.rest(2);
          if (key === 'tls') oneOf(value, TLS_POLICIES, 'tls');
          if (key === 'omemo_policy') oneOf(value, OMEMO_POLICIES, 'omemo_policy');
          if (key === 'trust_mode') oneOf(value, TRUST_MODES, 'trust_mode');
          if (key === 'port' && !(/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 65535)) throw new UsageError(`invalid port "${value}"`);
          await ctx.core.accountSet(jid, key, value);
          info(ctx, `account ${jid}: ${key} set`);
        },
      },
      {
        name: 'list',
        synopsis: ['/account list'],
        description: 'List the accounts and their settings.',
        args: [],
        examples: ['/account list'],
        async handler(ctx, args) {
          noMoreArgs(args, 0);
          const list = await ctx.core.accountList();
          info(ctx, list.length ? ['accounts:', ...list.map(describeAccount)].join('\n') : 'no accounts (add one with /account add JID)');
        },
      },
      {
        name: 'remove',
        synopsis: ['/account remove JID'],
        description: 'Remove an account from the profile (its OMEMO keys stay on disk).',
        args: [{ name: 'JID', description: 'The account.' }],
        examples: ['/account remove alice@example.org'],
        complete: (ctx, a) => (a.length === 0 ? ctx.accountJids() : []),
        async handler(ctx, args) {
          const jid = requireJid(args[0]);
          noMoreArgs(args, 1);
          await ctx.core.accountRemove(jid);
          info(ctx, `account ${jid} removed`);
        },
      },
    ],
  },
  {
    name: '/msg',
    synopsis: ['/msg JID [TEXT]'],
    description: 'Open a chat with JID; with TEXT, also send it. Plain lines (not starting with /) go to the current chat.',
    args: [
      { name: 'JID', description: 'The contact.' },
      { name: 'TEXT', description: 'The rest of the line, sent as is.' },
    ],
    examples: ['/msg bob@example.org', '/msg bob@example.org Hello, Bob!'],
    complete: jidsAt0,
    async handler(ctx, args, raw) {
      const jid = requireJid(args[0]);
      ctx.core.openChat(jid);
      const text = raw.rest(1);
      if (text) await ctx.core.sendMessage(jid, text);
    },
  },
  {
    name: '/sub',
    synopsis: ['/sub request|allow|deny [JID]'],
    description: 'Presence subscriptions: ask to see a contact\'s presence, or answer their request. Without JID: the current chat.',
    args: [],
    examples: ['/sub request bob@example.org', '/sub allow bob@example.org'],
    subcommands: (['request', 'allow', 'deny'] as const).map(
      (action): CommandDef => ({
        name: action,
        synopsis: [`/sub ${action} [JID]`],
        description:
          action === 'request'
            ? 'Ask JID for a presence subscription.'
            : action === 'allow'
              ? 'Accept JID\'s subscription request.'
              : 'Refuse (or cancel) JID\'s subscription.',
        args: [{ name: 'JID', description: 'The contact (default: the current chat).' }],
        examples: [`/sub ${action} bob@example.org`],
        complete: jidsAt0,
        async handler(ctx, args) {
          noMoreArgs(args, 1);
          const jid = args[0] ?? ctx.core.currentChat();
          if (!jid) throw new UsageError('missing JID (no current chat)');
          await ctx.core.subscription(action, requireJid(jid));
        },
      }),
    ),
  },
  {
    name: '/omemo',
    synopsis: [
      '/omemo gen',
      '/omemo fingerprint [JID]',
      '/omemo trust [JID] FINGERPRINT',
      '/omemo untrust [JID] FINGERPRINT',
      '/omemo start [JID]',
      '/omemo end',
      '/omemo policy [manual|automatic|always]',
      '/omemo trustmode [manual|firstusage|blind|btbv]',
      ...OMEMO_UX_SYNOPSIS,
    ],
    description: 'OMEMO end-to-end encryption: keys, fingerprints, trust, and per-chat use.',
    args: [],
    examples: [
      '/omemo gen',
      '/omemo fingerprint bob@example.org',
      '/omemo trust bob@example.org 1f2e3d4c 5b6a7980 …',
      '/omemo start bob@example.org',
      '/omemo policy always',
    ],
    subcommands: [
      {
        name: 'gen',
        synopsis: ['/omemo gen'],
        description: 'Create this device\'s OMEMO identity and keys (done automatically on first connect).',
        args: [],
        examples: ['/omemo gen'],
        async handler(ctx, args) {
          noMoreArgs(args, 0);
          const r = await ctx.core.omemoGen();
          info(ctx, `${r.created ? 'OMEMO identity created' : 'OMEMO identity already exists'}: device ${r.deviceId}, fingerprint ${formatFp(r.fingerprint)}`);
        },
      },
      {
        name: 'fingerprint',
        synopsis: ['/omemo fingerprint [JID]'],
        description: 'Show the fingerprints of JID\'s devices, or of your own devices without JID.',
        args: [{ name: 'JID', description: 'A contact (default: your own account).' }],
        examples: ['/omemo fingerprint', '/omemo fingerprint bob@example.org'],
        complete: jidsAt0,
        async handler(ctx, args) {
          noMoreArgs(args, 1);
          const jid = args[0] === undefined ? undefined : requireJid(args[0]);
          const devices = await ctx.core.omemoFingerprint(jid);
          if (devices.length === 0) info(ctx, `no OMEMO devices known${jid ? ` for ${jid}` : ''}`);
          else info(ctx, ['fingerprints:', ...devices.map(describeDevice)].join('\n'));
        },
      },
      {
        name: 'trust',
        synopsis: ['/omemo trust [JID] FINGERPRINT'],
        description: 'Trust a device identity (compare the fingerprint with the contact first). Without JID: the current chat.',
        args: [
          { name: 'JID', description: 'The contact (default: the current chat).' },
          { name: 'FINGERPRINT', description: '64 hex digits; spaces, dashes and colons are ignored.' },
        ],
        examples: ['/omemo trust bob@example.org 1f2e3d4c5b6a7980…', '/omemo trust 1f2e3d4c 5b6a7980 …'],
        complete: completeTrust,
        async handler(ctx, args) {
          const { jid, fp } = jidAndFingerprint(ctx, args);
          await ctx.core.omemoTrust(jid, fp);
        },
      },
      {
        name: 'untrust',
        synopsis: ['/omemo untrust [JID] FINGERPRINT'],
        description: 'Distrust a device identity: nothing is encrypted for it, and its messages are marked untrusted.',
        args: [
          { name: 'JID', description: 'The contact (default: the current chat).' },
          { name: 'FINGERPRINT', description: '64 hex digits; spaces, dashes and colons are ignored.' },
        ],
        examples: ['/omemo untrust bob@example.org 1f2e3d4c5b6a7980…'],
        complete: completeTrust,
        async handler(ctx, args) {
          const { jid, fp } = jidAndFingerprint(ctx, args);
          await ctx.core.omemoUntrust(jid, fp);
        },
      },
      {
        name: 'start',
        synopsis: ['/omemo start [JID]'],
        description: 'Encrypt the chat with JID (default: the current chat) from now on; opens the chat.',
        args: [{ name: 'JID', description: 'The contact (default: the current chat).' }],
        examples: ['/omemo start bob@example.org'],
        complete: jidsAt0,
        async handler(ctx, args) {
          noMoreArgs(args, 1);
          await ctx.core.omemoStart(args[0] === undefined ? undefined : requireJid(args[0]));
        },
      },
      {
        name: 'end',
        synopsis: ['/omemo end'],
        description: 'Stop encrypting the current chat.',
        args: [],
        examples: ['/omemo end'],
        async handler(ctx, args) {
          noMoreArgs(args, 0);
          await ctx.core.omemoEnd();
        },
      },
      {
        name: 'policy',
        synopsis: ['/omemo policy [manual|automatic|always]'],
        description:
          'When chats use OMEMO: manual (only after /omemo start), automatic (when the contact has OMEMO devices), always (never send plaintext). Without a value: show it.',
        args: [{ name: 'POLICY', description: OMEMO_POLICIES.join('|') }],
        examples: ['/omemo policy always'],
        complete: (_ctx, a) => (a.length === 0 ? [...OMEMO_POLICIES] : []),
        async handler(ctx, args) {
          noMoreArgs(args, 1);
          const p = args[0] === undefined ? undefined : oneOf(args[0], OMEMO_POLICIES, 'policy');
          info(ctx, `OMEMO policy: ${await ctx.core.omemoPolicy(p)}`);
        },
      },
      {
        name: 'trustmode',
        synopsis: ['/omemo trustmode [manual|firstusage|blind|btbv]'],
        description:
          'How new devices are trusted: manual (never automatically), firstusage (trust the first devices seen), blind (trust all), btbv (blind trust before verification: trust new devices until one device of the contact is verified). Without a value: show it.',
        args: [{ name: 'MODE', description: TRUST_MODES.join('|') }],
        examples: ['/omemo trustmode btbv'],
        complete: (_ctx, a) => (a.length === 0 ? [...TRUST_MODES] : []),
        async handler(ctx, args) {
          noMoreArgs(args, 1);
          const m = args[0] === undefined ? undefined : oneOf(args[0], TRUST_MODES, 'trust mode');
          info(ctx, `OMEMO trust mode: ${await ctx.core.omemoTrustMode(m)}`);
        },
      },
      ...OMEMO_UX_SUBCOMMANDS,
    ],
  },
  {
    name: '/correct',
    synopsis: ['/correct TEXT'],
    description:
      'Replace your last message in the current chat with TEXT (XEP-0308 message correction), encrypted when the chat is.',
    args: [{ name: 'TEXT', description: 'The rest of the line: the corrected message.' }],
    examples: ['/correct Hello, Bob!'],
    async handler(ctx, _args, raw) {
      const text = raw.rest(0);
      if (!text) throw new UsageError('missing TEXT');
      await ctx.core.correctLast(text);
    },
  },
  {
    name: '/retract',
    synopsis: ['/retract'],
    description:
      'Retract your last message in the current chat (XEP-0424): clients that support it remove it; others show a notice.',
    args: [],
    examples: ['/retract'],
    async handler(ctx, args) {
      noMoreArgs(args, 0);
      await ctx.core.retractLast();
    },
  },
  {
    name: '/states',
    synopsis: ['/states [on|off]'],
    description: 'Send typing notifications (XEP-0085 chat states: composing, paused, active), on by default. Without an argument: show the setting.',
    args: [{ name: 'on|off', description: 'on: send chat states; off: never send them.' }],
    examples: ['/states off', '/states'],
    complete: (_ctx, a) => (a.length === 0 ? ['on', 'off'] : []),
    handler(ctx, args) {
      noMoreArgs(args, 1);
      const v = args[0] === undefined ? undefined : oneOf(args[0].toLowerCase(), ['on', 'off'] as const, 'setting') === 'on';
      info(ctx, `chat states ${ctx.core.chatStates(v) ? 'on' : 'off'}`);
    },
  },
  ...UX_COMMANDS,
  ...WINDOW_COMMANDS,
  ...HISTORY_COMMANDS,
  ...MUC_COMMANDS,
  ...FILE_COMMANDS,
  {
    name: '/help',
    synopsis: ['/help [COMMAND [SUBCOMMAND]]'],
    description: 'List the commands, or show the help of one.',
    args: [{ name: 'COMMAND', description: 'A command, with or without the leading /.' }],
    examples: ['/help', '/help omemo', '/help omemo trust'],
    complete(ctx, a) {
      if (a.length === 0) return ctx.table.map((c) => c.name.slice(1));
      if (a.length === 1) return findCommand(ctx.table, a[0])?.subcommands?.map((s) => s.name) ?? [];
      return [];
    },
    handler(ctx, args) {
      noMoreArgs(args, 2);
      if (args.length === 0) {
        info(ctx, helpOverview(ctx.table));
        return;
      }
      const cmd = findCommand(ctx.table, args[0]);
      if (!cmd) throw new UsageError(`no command ${args[0]}`);
      if (args[1] !== undefined) {
        const sub = cmd.subcommands?.find((s) => s.name === args[1].toLowerCase());
        if (!sub) throw new UsageError(`no subcommand ${cmd.name} ${args[1]}`);
        info(ctx, helpText(sub));
        return;
      }
      info(ctx, helpText(cmd));
    },
  },
  {
    name: '/quit',
    synopsis: ['/quit'],
    description: 'Quit once pending messages are sent; downloads under way are stopped and their partial files removed.',
    args: [],
    examples: ['/quit'],
    handler(ctx, args) {
      noMoreArgs(args, 0);
      // Pending messages are still sent; downloads stop now (a slow or endless one would hold us).
      ctx.core.urlCancel?.();
      ctx.quit();
    },
  },
];

export function findCommand(table: readonly CommandDef[], name: string): CommandDef | undefined {
  const n = name.toLowerCase();
  const full = n.startsWith('/') ? n : `/${n}`;
  return table.find((c) => c.name === full);
}

// ---- help text (plain) --------------------------------------------------------------------

export function helpOverview(table: readonly CommandDef[]): string {
  const width = Math.max(...table.map((c) => c.name.length));
  return [
    'Commands (/help COMMAND for details):',
    ...table.map((c) => `  ${c.name.padEnd(width)}  ${firstSentence(c.description)}`),
    'Lines not starting with / are sent to the current chat.',
  ].join('\n');
}

export function helpText(c: CommandDef): string {
  const out: string[] = [...c.synopsis, '', c.description];
  if (c.args.length) {
    out.push('', 'Arguments:');
    for (const a of c.args) out.push(`  ${a.name}: ${a.description}`);
  }
  if (c.subcommands?.length) {
    out.push('', 'Subcommands:');
    for (const s of c.subcommands) out.push(`  ${s.synopsis[0]}: ${s.description}`);
  }
  if (c.examples.length) {
    out.push('', 'Examples:');
    for (const e of c.examples) out.push(`  ${e}`);
  }
  return out.join('\n');
}

function firstSentence(s: string): string {
  const m = /^(.*?\.)(\s|$)/.exec(s);
  return m ? m[1] : s;
}
