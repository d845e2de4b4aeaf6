// Roster, presence and OMEMO trust-UX commands: declared like every other command and spliced
// into the table by table.ts (/roster, /status, /presence; /omemo devices|verify|qrcode|clear_device_list).
import { displayFingerprint } from '../lib/fingerprint.js';
import type { ContactView, DeviceView } from '../core/api.js';
import { STATUS_SHOWS, describePresence, type StatusShow } from '../core/roster.js';
import { UsageError } from './parser.js';
import type { CommandContext, CommandDef } from './command-def.js';

const info = (ctx: CommandContext, message: string) => ctx.emit({ event: 'info', message });

function jidArg(s: string | undefined): string {
  if (!s) throw new UsageError('missing JID');
  if (!/^[^\s@/"]+@[^\s@/"]+$/.test(s)) throw new UsageError(`"${s}" is not a bare JID (user@domain)`);
  return s;
}

function describeContact(c: ContactView): string {
  const sub = c.subscription === undefined ? 'not in roster' : `subscription ${c.subscription}${c.pending ? ', request pending' : ''}`;
  return `  ${c.jid}${c.name ? ` (${c.name})` : ''}: ${describePresence(c)} [${sub}]`;
}

function ago(ms: number | undefined): string {
  if (!ms) return 'never';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function describeDeviceFull(d: DeviceView): string {
  const flags = [d.own ? 'this device' : undefined, d.trust ?? 'trust unknown', d.active ? 'active' : 'inactive'].filter(Boolean).join(', ');
  return `  device ${d.deviceId}: ${displayFingerprint(d.fingerprint)} (${flags}; last seen ${d.own ? 'now' : ago(d.lastSeen)})`;
}

const jidsAt0 = (ctx: CommandContext, a: string[]) => (a.length === 0 ? ctx.knownJids() : []);

export const UX_COMMANDS: readonly CommandDef[] = [
  {
    name: '/roster',
    synopsis: ['/roster', '/roster add JID [NICK]', '/roster remove JID', '/roster nick JID NICK'],
    description: 'The contact list. Without arguments: every contact with its subscription and presence.',
    args: [],
    examples: ['/roster', '/roster add bob@example.org Bob', '/roster nick bob@example.org Bobby', '/roster remove bob@example.org'],
    handler(ctx) {
      const list = ctx.core.roster();
      info(ctx, list.length ? [`roster (${list.length}):`, ...list.map(describeContact)].join('\n') : 'the roster is empty (add a contact with /roster add JID)');
    },
    subcommands: [
      {
        name: 'add',
        synopsis: ['/roster add JID [NICK]'],
        description: 'Add JID to the roster, optionally with a nickname (the rest of the line). Does not ask for presence: /sub request JID does.',
        args: [
          { name: 'JID', description: 'The contact, user@domain.' },
          { name: 'NICK', description: 'A name for the contact (the rest of the line).' },
        ],
        examples: ['/roster add bob@example.org', '/roster add bob@example.org Bob Builder'],
        complete: jidsAt0,
        async handler(ctx, args, raw) {
          const jid = jidArg(args[0]);
          const nick = args.length > 1 ? (args.length === 2 ? args[1] : raw.rest(1)) : undefined;
          await ctx.core.rosterAdd(jid, nick);
        },
      },
      {
        name: 'remove',
        synopsis: ['/roster remove JID'],
        description: 'Remove JID from the roster (this also cancels presence subscriptions both ways).',
        args: [{ name: 'JID', description: 'The contact.' }],
        examples: ['/roster remove bob@example.org'],
        complete: jidsAt0,
        async handler(ctx, args) {
          if (args.length > 1) throw new UsageError(`unexpected argument "${args[1]}"`);
          await ctx.core.rosterRemove(jidArg(args[0]));
        },
      },
      {
        name: 'nick',
        synopsis: ['/roster nick JID NICK'],
        description: 'Give a roster contact a nickname (the rest of the line).',
        args: [
          { name: 'JID', description: 'The contact.' },
          { name: 'NICK', description: 'The new name.' },
        ],
        examples: ['/roster nick bob@example.org Bobby'],
        complete: jidsAt0,
        async handler(ctx, args, raw) {
          const jid = jidArg(args[0]);
          if (args.length < 2) throw new UsageError('missing NICK');
          await ctx.core.rosterNick(jid, args.length === 2 ? args[1] : raw.rest(1));
        },
      },
    ],
  },
  {
    name: '/status',
    synopsis: ['/status online|away|dnd|xa [MESSAGE]'],
    description: 'Set your presence, seen by contacts subscribed to it, with an optional status message.',
    args: [
      { name: 'online|away|dnd|xa', description: 'Available, away, do not disturb, or extended away.' },
      { name: 'MESSAGE', description: 'A status message (the rest of the line).' },
    ],
    examples: ['/status away lunch, back at 2', '/status dnd', '/status online'],
    complete: (_ctx, a) => (a.length === 0 ? [...STATUS_SHOWS] : []),
    async handler(ctx, args, raw) {
      const show = args[0]?.toLowerCase();
      if (show === undefined) throw new UsageError(`missing status (${STATUS_SHOWS.join('|')})`);
      if (!(STATUS_SHOWS as readonly string[]).includes(show)) throw new UsageError(`invalid status "${args[0]}" (${STATUS_SHOWS.join('|')})`);
      const message = args.length > 1 ? raw.rest(1) : undefined;
      await ctx.core.setStatus(show as StatusShow, message);
    },
  },
  {
    name: '/presence',
    synopsis: ['/presence'],
    description: 'List the presence of your contacts (and of anyone else whose presence you see).',
    args: [],
    examples: ['/presence'],
    handler(ctx, args) {
      if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`);
      const list = ctx.core.presences();
      if (list.length === 0) {
        info(ctx, 'no contacts');
        return;
      }
      const online = list.filter((c) => c.presence.length > 0).length;
      info(ctx, [`presence (${online} of ${list.length} online):`, ...list.map((c) => `  ${c.jid}${c.name ? ` (${c.name})` : ''}: ${describePresence(c)}`)].join('\n'));
    },
  },
];

/** Columns before a window line's text (its time, or the indent of its following lines). */
const LINE_PREFIX = 9;
/** Rows of the screen that are not the window: title bar, status bar, input line. */
const CHROME_ROWS = 3;

/**
 * Why a QR code cannot be scanned off this screen (too narrow: its rows wrap; too low: it never
 * shows whole), with the size the terminal needs; undefined when it fits or the size is unknown.
 */
export function qrDoesNotFit(qr: string, screen: { columns: number; rows: number } | undefined): string | undefined {
  if (!screen) return undefined;
  const rows = qr.split('\n');
  const needCols = Math.max(...rows.map((r) => [...r].length)) + LINE_PREFIX;
  const needRows = rows.length + CHROME_ROWS;
  if (needCols <= screen.columns && needRows <= screen.rows) return undefined;
  return (
    `the QR code above does not fit this ${screen.columns}×${screen.rows} terminal and cannot be scanned as shown: ` +
    `it needs at least ${needCols} columns and ${needRows} rows. Enlarge the terminal (the code is redrawn whole), or verify with the URI under it`
  );
}

export const OMEMO_UX_SYNOPSIS = ['/omemo devices [JID]', '/omemo verify URI', '/omemo qrcode', '/omemo clear_device_list'];

export const OMEMO_UX_SUBCOMMANDS: readonly CommandDef[] = [
  {
    name: 'devices',
    synopsis: ['/omemo devices [JID]'],
    description:
      'Every OMEMO device of JID (default: your own account) with its id, fingerprint, trust, whether it is active (in the published device list) and when it was last seen.',
    args: [{ name: 'JID', description: 'A contact (default: your own account).' }],
    examples: ['/omemo devices', '/omemo devices bob@example.org'],
    complete: jidsAt0,
    async handler(ctx, args) {
      if (args.length > 1) throw new UsageError(`unexpected argument "${args[1]}"`);
      const jid = args[0] === undefined ? undefined : jidArg(args[0]);
      const devices = await ctx.core.omemoDevices(jid);
      const who = jid ?? 'your account';
      info(ctx, devices.length ? [`OMEMO devices of ${who}:`, ...devices.map(describeDeviceFull)].join('\n') : `no OMEMO devices known for ${who}`);
    },
  },
  {
    name: 'verify',
    synopsis: ['/omemo verify URI'],
    description:
      'Verify the fingerprints an OMEMO URI lists (xmpp:JID?omemo-sid-ID=FINGERPRINT;…, what a contact\'s QR code holds): each one that matches a known device of JID is marked verified. A listed device whose known fingerprint differs is reported as a MISMATCH and not trusted; unknown devices are reported too.',
    args: [{ name: 'URI', description: 'The scanned URI; `;` or `&` between pairs, any case.' }],
    examples: ['/omemo verify xmpp:bob@example.org?omemo-sid-12345=1f2e3d4c…;omemo-sid-678=9a8b7c6d…'],
    async handler(ctx, args, raw) {
      if (args.length === 0) throw new UsageError('missing URI');
      // One (possibly quoted) word as parsed; otherwise the raw line without the spaces a
      // terminal may have wrapped into it.
      const uri = args.length === 1 ? args[0] : raw.rest(0).replace(/\s+/g, '');
      const r = await ctx.core.omemoVerify(uri);
      info(ctx, r.summary);
    },
  },
  {
    name: 'qrcode',
    synopsis: ['/omemo qrcode'],
    description:
      'Show a QR code of your OMEMO URI (this device and your trusted own devices), for Conversations and other clients to scan and verify; the URI is printed under it.',
    args: [],
    examples: ['/omemo qrcode'],
    async handler(ctx, args) {
      if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`);
      const { uri, qr } = await ctx.core.omemoQrCode();
      info(ctx, `${qr}\n${uri}`);
      const tooSmall = qrDoesNotFit(qr, ctx.windows?.screen);
      if (tooSmall) ctx.emit({ event: 'warning', message: tooSmall });
    },
  },
  {
    name: 'clear_device_list',
    synopsis: ['/omemo clear_device_list'],
    description:
      'Publish a device list holding only this device, dropping stale devices of your account. Your other clients that are still in use add themselves back when they connect.',
    args: [],
    examples: ['/omemo clear_device_list'],
    async handler(ctx, args) {
      if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`);
      const removed = await ctx.core.omemoClearDeviceList();
      info(ctx, removed.length ? `device list cleared: removed ${removed.join(', ')}; only this device is listed now` : 'device list cleared: only this device is listed');
    },
  },
];
