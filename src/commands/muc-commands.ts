// Group chat commands (/join, /leave, /nick, /occupants, /subject, /invite, /room, /affiliation,
// /bookmark), as in Profanity; spliced into the table by table.ts. They act on core.muc.
import type { CoreApi, MucApi, OccupantView, RoomSetting } from '../core/api.js';
import { UsageError } from './parser.js';
import type { CommandContext, CommandDef } from './command-def.js';

const info = (ctx: CommandContext, message: string) => ctx.emit({ event: 'info', message });

function muc(core: CoreApi): MucApi {
  if (!core.muc) throw new Error('group chat is not available in this session');
  return core.muc;
}

function noMore(args: string[], n: number): void {
  if (args.length > n) throw new UsageError(`unexpected argument "${args[n]}"`);
}

/** KEY VALUE pairs after position `from`, each key at most once and from `allowed`. */
function options<K extends string>(args: string[], from: number, allowed: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (let i = from; i < args.length; i += 2) {
    const k = args[i].toLowerCase();
    if (!(allowed as readonly string[]).includes(k)) throw new UsageError(`unknown option "${args[i]}" (${allowed.join('|')})`);
    if (args[i + 1] === undefined) throw new UsageError(`missing value for ${k}`);
    out[k as K] = args[i + 1];
  }
  return out;
}

function onOff(v: string | undefined, what: string): boolean {
  const s = v?.toLowerCase();
  if (s === 'on') return true;
  if (s === 'off') return false;
  throw new UsageError(v === undefined ? `missing on|off for ${what}` : `invalid value "${v}" for ${what} (on|off)`);
}

function looksLikeRoom(s: string): string {
  if (!/^[^\s@/"]+(?:@[^\s@/"]+)?$/.test(s)) throw new UsageError(`"${s}" is not a room (room or room@service)`);
  return s;
}

function looksLikeJid(s: string | undefined): string {
  if (!s) throw new UsageError('missing JID');
  if (!/^[^\s@/"]+@[^\s@/"]+$/.test(s)) throw new UsageError(`"${s}" is not a bare JID`);
  return s;
}

const ROLE_GROUPS: [string, (role: string | undefined) => boolean][] = [
  ['Moderators', (r) => r === 'moderator'],
  ['Participants', (r) => r === 'participant' || r === undefined],
  ['Visitors', (r) => r === 'visitor'],
  ['Others', (r) => r !== 'moderator' && r !== 'participant' && r !== undefined && r !== 'visitor'],
];

/** /occupants as Profanity lists them: grouped by role, each with real JID and affiliation. */
export function describeOccupants(list: readonly OccupantView[]): string {
  if (list.length === 0) return 'no occupants known';
  const out = [`occupants (${list.length}):`];
  for (const [name, has] of ROLE_GROUPS) {
    const group = list.filter((o) => has(o.role));
    if (group.length === 0) continue;
    out.push(`  ${name}:`);
    for (const o of group) out.push(`    ${o.nick}${o.jid ? ` (${o.jid})` : ''}${o.affiliation && o.affiliation !== 'none' ? `, ${o.affiliation}` : ''}${o.self ? ' (you)' : ''}`);
  }
  return out.join('\n');
}

const roomsAt0 = (ctx: CommandContext, a: string[]) => (a.length === 0 ? ctx.core.muc?.rooms() ?? [] : []);

const ROOM_SETTINGS: readonly RoomSetting[] = ['persistent', 'members-only', 'nonanonymous', 'public'];
const AFFILIATIONS = ['owner', 'admin', 'member', 'outcast', 'none'] as const;
const LISTABLE = ['owner', 'admin', 'member', 'outcast'] as const;

export const MUC_COMMANDS: readonly CommandDef[] = [
  {
    name: '/join',
    synopsis: ['/join ROOM[@SERVICE] [nick NICK] [password PASSWORD]'],
    description:
      'Join a group chat (XEP-0045) and open its window; a room that does not exist is created with the default configuration (you are its owner). Without @SERVICE the server\'s group chat service is used.',
    args: [
      { name: 'ROOM[@SERVICE]', description: 'The room, e.g. team or team@muc.example.org.' },
      { name: 'nick NICK', description: 'Your nickname in the room (default: the local part of your JID).' },
      { name: 'password PASSWORD', description: 'The room password, if it has one.' },
    ],
    examples: ['/join team', '/join team@muc.example.org nick alice'],
    complete(_ctx, a) {
      if (a.length % 2 === 1) return ['nick', 'password'].filter((k) => !a.slice(1).includes(k));
      return [];
    },
    async handler(ctx, args) {
      if (!args[0]) throw new UsageError('missing ROOM');
      const room = looksLikeRoom(args[0]);
      const o = options(args, 1, ['nick', 'password'] as const);
      await muc(ctx.core).join(room, { ...(o.nick ? { nick: o.nick } : {}), ...(o.password ? { password: o.password } : {}) });
    },
  },
  {
    name: '/leave',
    synopsis: ['/leave [ROOM]'],
    description: 'Leave a group chat (default: the current room window).',
    args: [{ name: 'ROOM', description: 'A room you are in.' }],
    examples: ['/leave', '/leave team@muc.example.org'],
    complete: roomsAt0,
    async handler(ctx, args) {
      noMore(args, 1);
      await muc(ctx.core).leave(args[0]);
    },
  },
  {
    name: '/nick',
    synopsis: ['/nick NICK'],
    description: 'Change your nickname in the current room.',
    args: [{ name: 'NICK', description: 'The new nickname (the rest of the line).' }],
    examples: ['/nick alice2'],
    async handler(ctx, _args, raw) {
      const n = raw.rest(0).trim();
      if (!n) throw new UsageError('missing NICK');
      await muc(ctx.core).nick(n);
    },
  },
  {
    name: '/occupants',
    synopsis: ['/occupants [ROOM]'],
    description: 'List who is in the room, with their real JID when the room shows it, affiliation and role.',
    args: [{ name: 'ROOM', description: 'A room you are in (default: the current one).' }],
    examples: ['/occupants'],
    complete: roomsAt0,
    handler(ctx, args) {
      noMore(args, 1);
      info(ctx, describeOccupants(muc(ctx.core).occupants(args[0])));
    },
  },
  {
    name: '/subject',
    synopsis: ['/subject [TEXT]'],
    description: 'Show the subject of the current room, or set it to TEXT.',
    args: [{ name: 'TEXT', description: 'The new subject (the rest of the line).' }],
    examples: ['/subject', '/subject Release planning'],
    async handler(ctx, _args, raw) {
      const text = raw.rest(0);
      const s = await muc(ctx.core).subject(text || undefined);
      if (!text) info(ctx, s ? `subject: ${s}` : 'no subject');
    },
  },
  {
    name: '/invite',
    synopsis: ['/invite JID [REASON]'],
    description: 'Invite a contact to the current room (in members-only rooms, owners and admins make them a member).',
    args: [
      { name: 'JID', description: 'The contact.' },
      { name: 'REASON', description: 'The rest of the line.' },
    ],
    examples: ['/invite bob@example.org', '/invite bob@example.org join us'],
    complete: (ctx, a) => (a.length === 0 ? ctx.knownJids() : []),
    async handler(ctx, args, raw) {
      const jid = looksLikeJid(args[0]);
      const reason = raw.rest(1);
      await muc(ctx.core).invite(jid, reason || undefined);
    },
  },
  {
    name: '/room',
    synopsis: ['/room config persistent|members-only|nonanonymous|public on|off', '/room config private'],
    description: 'Configure the current room (owners only).',
    args: [],
    examples: ['/room config members-only on', '/room config private'],
    subcommands: [
      {
        name: 'config',
        synopsis: ['/room config persistent|members-only|nonanonymous|public on|off', '/room config private'],
        description:
          'Change a room setting. private = persistent, members-only and non-anonymous at once: what OMEMO in a room needs.',
        args: [
          { name: 'SETTING', description: `${ROOM_SETTINGS.join('|')}, or private.` },
          { name: 'on|off', description: 'The new value.' },
        ],
        examples: ['/room config persistent on', '/room config nonanonymous on', '/room config private'],
        complete(_ctx, a) {
          if (a.length === 0) return [...ROOM_SETTINGS, 'private'];
          if (a.length === 1 && a[0] !== 'private') return ['on', 'off'];
          return [];
        },
        async handler(ctx, args) {
          const setting = args[0]?.toLowerCase();
          if (!setting) throw new UsageError(`missing SETTING (${[...ROOM_SETTINGS, 'private'].join('|')})`);
          const m = muc(ctx.core);
          if (setting === 'private') {
            noMore(args, 1);
            for (const s of ['persistent', 'members-only', 'nonanonymous'] as const) await m.configure(s, true);
            return;
          }
          if (!(ROOM_SETTINGS as readonly string[]).includes(setting)) throw new UsageError(`invalid setting "${args[0]}" (${[...ROOM_SETTINGS, 'private'].join('|')})`);
          noMore(args, 2);
          await m.configure(setting as RoomSetting, onOff(args[1], setting));
        },
      },
    ],
  },
  {
    name: '/affiliation',
    synopsis: ['/affiliation set owner|admin|member|outcast|none JID', '/affiliation list owner|admin|member|outcast'],
    description: 'Room affiliations of the current room: who is a member (members-only rooms admit only them), admin, owner or banned (outcast).',
    args: [],
    examples: ['/affiliation set member bob@example.org', '/affiliation list member'],
    subcommands: [
      {
        name: 'set',
        synopsis: ['/affiliation set owner|admin|member|outcast|none JID'],
        description: 'Give JID an affiliation in the current room (none removes it).',
        args: [
          { name: 'AFFILIATION', description: AFFILIATIONS.join('|') },
          { name: 'JID', description: 'The user\'s bare JID.' },
        ],
        examples: ['/affiliation set member bob@example.org'],
        complete: (ctx, a) => (a.length === 0 ? [...AFFILIATIONS] : a.length === 1 ? ctx.knownJids() : []),
        async handler(ctx, args) {
          const aff = args[0]?.toLowerCase();
          if (!aff || !(AFFILIATIONS as readonly string[]).includes(aff)) throw new UsageError(`${aff ? `invalid affiliation "${args[0]}"` : 'missing AFFILIATION'} (${AFFILIATIONS.join('|')})`);
          const jid = looksLikeJid(args[1]);
          noMore(args, 2);
          await muc(ctx.core).affiliation(jid, aff as (typeof AFFILIATIONS)[number]);
        },
      },
      {
        name: 'list',
        synopsis: ['/affiliation list owner|admin|member|outcast'],
        description: 'List the JIDs with an affiliation in the current room.',
        args: [{ name: 'AFFILIATION', description: LISTABLE.join('|') }],
        examples: ['/affiliation list member'],
        complete: (_ctx, a) => (a.length === 0 ? [...LISTABLE] : []),
        async handler(ctx, args) {
          const aff = args[0]?.toLowerCase() ?? 'member';
          if (!(LISTABLE as readonly string[]).includes(aff)) throw new UsageError(`invalid affiliation "${args[0]}" (${LISTABLE.join('|')})`);
          noMore(args, 1);
          const list = await muc(ctx.core).affiliationList(aff as (typeof LISTABLE)[number]);
          info(ctx, list.length ? [`${aff}s:`, ...list.map((j) => `  ${j}`)].join('\n') : `no ${aff}s`);
        },
      },
    ],
  },
  {
    name: '/bookmark',
    synopsis: ['/bookmark add [ROOM] [autojoin on|off] [nick NICK] [password PASSWORD] [name NAME]', '/bookmark remove [ROOM]', '/bookmark list'],
    description:
      'Room bookmarks, stored privately on your server (XEP-0402) and shared with your other clients; autojoin bookmarks are joined on connect.',
    args: [],
    examples: ['/bookmark add', '/bookmark add team@muc.example.org autojoin off', '/bookmark list', '/bookmark remove team@muc.example.org'],
    subcommands: [
      {
        name: 'add',
        synopsis: ['/bookmark add [ROOM] [autojoin on|off] [nick NICK] [password PASSWORD] [name NAME]'],
        description: 'Bookmark a room (default: the current one), with autojoin on unless told otherwise.',
        args: [
          { name: 'ROOM', description: 'room@service (default: the current room).' },
          { name: 'autojoin on|off', description: 'Join it on connect (default on).' },
          { name: 'nick NICK', description: 'Nickname to join with (default: your nick there).' },
          { name: 'password PASSWORD', description: 'Room password.' },
          { name: 'name NAME', description: 'A display name.' },
        ],
        examples: ['/bookmark add', '/bookmark add team@muc.example.org autojoin on nick alice'],
        complete(ctx, a) {
          if (a.length === 0) return ctx.core.muc?.rooms() ?? [];
          return [];
        },
        async handler(ctx, args) {
          const KEYS = ['autojoin', 'nick', 'password', 'name'] as const;
          const hasRoom = args.length % 2 === 1;
          const room = hasRoom ? looksLikeRoom(args[0]) : undefined;
          const o = options(args, hasRoom ? 1 : 0, KEYS);
          await muc(ctx.core).bookmarkAdd(room, {
            autojoin: o.autojoin === undefined ? true : onOff(o.autojoin, 'autojoin'),
            ...(o.nick ? { nick: o.nick } : {}),
            ...(o.password ? { password: o.password } : {}),
            ...(o.name ? { name: o.name } : {}),
          });
        },
      },
      {
        name: 'remove',
        synopsis: ['/bookmark remove [ROOM]'],
        description: 'Remove a bookmark (default: the current room).',
        args: [{ name: 'ROOM', description: 'room@service.' }],
        examples: ['/bookmark remove team@muc.example.org'],
        complete: roomsAt0,
        async handler(ctx, args) {
          noMore(args, 1);
          await muc(ctx.core).bookmarkRemove(args[0] === undefined ? undefined : looksLikeRoom(args[0]));
        },
      },
      {
        name: 'list',
        synopsis: ['/bookmark list'],
        description: 'List your bookmarks.',
        args: [],
        examples: ['/bookmark list'],
        async handler(ctx, args) {
          noMore(args, 0);
          const list = await muc(ctx.core).bookmarkList();
          info(
            ctx,
            list.length
              ? ['bookmarks:', ...list.map((b) => `  ${b.room}${b.name ? ` "${b.name}"` : ''}${b.nick ? ` nick ${b.nick}` : ''}${b.autojoin ? ' (autojoin)' : ''}`)].join('\n')
              : 'no bookmarks',
          );
        },
      },
    ],
  },
];
