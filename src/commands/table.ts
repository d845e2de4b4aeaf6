// THE command table (in the spirit of Profanity's cmd_defs.c): every command is declared once
// here; parsing, /help, completion and docs/commands.md all read from it.
import { WINDOW_COMMANDS } from './window-commands.js';
import { HISTORY_COMMANDS } from './history-commands.js';
import { MUC_COMMANDS } from './muc-commands.js';
import { FILE_COMMANDS } from './file-commands.js';
import { OMEMO_COMMAND } from './omemo-command.js';
import { UX_COMMANDS } from './ux-commands.js';
import { PRIVACY_COMMAND } from './privacy-command.js';
import { UsageError } from './parser.js';
import type { CoreApi } from '../core/api.js';
import { ACCOUNT_SET_KEYS, OMEMO_POLICIES, TLS_POLICIES, TRUST_MODES, describeAccount, findCommand, helpOverview, helpText, info, jidsAt0, noMoreArgs, oneOf, requireJid, type CommandDef } from './command-def.js';

export * from './command-def.js';

// ---- the table ----------------------------------------------------------------------------

const CONNECT_KEYS = ['server', 'port', 'tls'] as const;

export const COMMANDS: readonly CommandDef[] = [
  {
    name: '/connect',
    synopsis: ['/connect JID [server HOST] [port PORT] [tls force|allow|disable|trust]', '/connect'],
    description:
      'Connect an account. Settings saved with /account are used unless given here; a successful /connect saves the account with the server, port and tls given. Without a JID: the last account again, now (also while waiting to reconnect), else the first saved account. The password comes from XCHAT_PASSWORD, --password-file or the account\'s eval_password. A lost connection is retried by itself (1 s doubling to 60 s) until /disconnect.',
    args: [
      { name: 'JID', description: 'The account, user@domain.' },
      { name: 'server HOST', description: 'Connect to HOST instead of looking up the domain.' },
      { name: 'port PORT', description: 'TCP port (default 5222).' },
      { name: 'tls force|allow|disable|trust', description: "force: TLS required (default); allow: TLS when offered; disable: never (tests only); trust: TLS required, and the certificate the server shows now is pinned for the account even if no CA vouches for it (a self-signed server you know; as /tls trust FINGERPRINT, without typing it)." },
    ],
    examples: ['/connect alice@example.org', '/connect alice@localhost server 127.0.0.1 port 5222 tls allow', '/connect alice@selfhosted.example tls trust', '/connect'],
    complete(ctx, a) {
      if (a.length === 0) return [...ctx.accountJids(), ...ctx.knownJids()];
      if (a.length % 2 === 1) return CONNECT_KEYS.filter((k) => !a.slice(1).includes(k));
      if (a[a.length - 1] === 'tls') return [...TLS_POLICIES, 'trust'];
      return [];
    },
    async handler(ctx, args) {
      if (args.length === 0 && (await ctx.core.reconnectNow?.())) return;
      const jid = requireJid(args[0] ?? (await ctx.core.accountList())[0]?.jid, 'JID (no account saved yet: /connect JID)');
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
        } else if (value === 'trust') opts.trustCertificate = true;
        else opts.tls = oneOf(value, [...TLS_POLICIES, 'trust'], 'tls') as (typeof TLS_POLICIES)[number];
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
    name: '/wait',
    synopsis: ['/wait'],
    description:
      'Wait until the archive has been read after connecting (messages that arrived while you were away are shown) and everything sent so far has gone out. `xchat run` does this after each /connect by itself, so a script acts on what arrived meanwhile.',
    args: [],
    examples: ['/connect alice@example.org', '/wait'],
    async handler(ctx, args) {
      noMoreArgs(args, 0);
      await ctx.core.caughtUp?.();
      await ctx.core.drain();
    },
  },
  {
    name: '/tls',
    synopsis: ['/tls trust FINGERPRINT [JID]'],
    description:
      "Accept exactly this server certificate for the account (default: the one last connected), as Profanity's /tls always does: its SHA-256 fingerprint, shown when the certificate could not be verified. From then on only this certificate is accepted for the account; a different one is refused with a warning. Verification by CA stays the default for every other account.",
    args: [],
    examples: ['/tls trust 5A:3C:…:9F alice@example.org'],
    subcommands: [
      {
        name: 'trust',
        synopsis: ['/tls trust FINGERPRINT [JID]'],
        description: 'Pin this certificate for the account.',
        args: [
          { name: 'FINGERPRINT', description: 'SHA-256, as shown (colons optional).' },
          { name: 'JID', description: 'The account (default: the last one connected).' },
        ],
        examples: ['/tls trust 5A:3C:…:9F'],
        async handler(ctx, args) {
          noMoreArgs(args, 2);
          const fp = args[0];
          if (!fp) throw new UsageError('missing FINGERPRINT');
          if (!ctx.core.tlsTrust) throw new UsageError('this front end cannot pin certificates');
          const account = await ctx.core.tlsTrust(fp, args[1] ? requireJid(args[1]) : undefined);
          info(ctx, `certificate ${fp} pinned for ${account}: /connect`);
        },
      },
    ],
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
  OMEMO_COMMAND,
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
  PRIVACY_COMMAND,
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
