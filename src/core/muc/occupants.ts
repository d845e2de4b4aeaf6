// Room presence: who is in the room under which nick, their real JIDs as the room tells them, and
// whose a message is. A message's own muc#user <x> is written by its sender and proves nothing.
import type { XchatEvent } from '../api.js';
import type { MucMessage, MucPresence } from './ports.js';
import { bareJid } from '../../lib/jid.js';
import { leaveKind } from '../../xmpp/muc-status.js';
import type { Occupant, Room, RoomRegistry } from './rooms.js';

/** Applies a presence of the room to our state; returns the events to show. */
export function applyPresence(rooms: RoomRegistry, p: MucPresence, ownJid: string | undefined): XchatEvent[] {
  const r = rooms.get(p.room);
  if (!r) return [];
  if (p.type === 'error') {
    // Join errors are answered through join(); this is a failed nick change or similar.
    if (!r.joined) return [];
    const why = `${p.error?.condition ?? 'error'}${p.error?.text ? ` (${p.error.text})` : ''}`;
    return [{ event: 'error', message: `${p.room}: ${why}`, from: p.room, reason: 'room-error' }];
  }
  const jid = p.jid ? bareJid(p.jid) : undefined;
  const self = p.self || (p.nick === r.nick && jid === ownJid);
  if (p.type === 'unavailable') return applyLeave(rooms, r, p, jid, self);
  const before = r.occupants.get(p.nick);
  const occ: Occupant = { ...(jid ? { jid } : {}), ...(p.affiliation ? { affiliation: p.affiliation } : {}), ...(p.role ? { role: p.role } : {}) };
  r.occupants.set(p.nick, occ);
  if (jid && p.occupantId) r.occupantIds.set(p.occupantId, jid);
  if (self && !r.joined) return []; // our own join is reported by join()
  if (!before) return [{ event: 'occupant', room: r.room, nick: p.nick, change: 'joined', ...occ }];
  if (before.affiliation !== occ.affiliation || before.role !== occ.role) {
    return [{ event: 'occupant', room: r.room, nick: p.nick, change: 'changed', ...occ }];
  }
  return [];
}

function applyLeave(rooms: RoomRegistry, r: Room, p: MucPresence, jid: string | undefined, self: boolean): XchatEvent[] {
  const known = r.occupants.get(p.nick);
  r.occupants.delete(p.nick);
  const kind = leaveKind(p.codes);
  if (kind === 'nick-change' && p.newNick) {
    if (self) r.nick = p.newNick;
    r.occupants.set(p.newNick, known ?? { ...(jid ? { jid } : {}) });
    return [{ event: 'occupant', room: r.room, nick: p.nick, change: 'nick', new_nick: p.newNick, ...(jid ? { jid } : {}) }];
  }
  if (!self) return [{ event: 'occupant', room: r.room, nick: p.nick, change: 'left', ...(jid ? { jid } : {}) }];
  r.joined = false;
  r.occupants.clear();
  if (kind === 'left' || kind === 'nick-change') return [];
  rooms.delete(r.room);
  return [{ event: 'room', room: r.room, status: kind, nick: p.nick, ...(p.reason ? { message: p.reason } : {}) }];
}

/**
 * The real JID of a live message's sender: only what the room told us in presence.
 */
export function liveSender(r: Room, nick: string, ownJid: string | undefined): string | undefined {
  return r.occupants.get(nick)?.jid ?? (nick === r.nick ? ownJid : undefined);
}

/**
 * The real JID of an archived message's sender (the nick may belong to someone else by now):
 * the room's occupant-id mapped through presence, else the room's own <x> — believed only in a
 * non-anonymous room, whose archive appends it after any <x> the sender wrote (a forged one
 * then conflicts with it and nothing is believed).
 */
export function archivedSender(r: Room, m: MucMessage): string | undefined {
  const byOccupantId = m.occupantId ? r.occupantIds.get(m.occupantId) : undefined;
  if (byOccupantId) return byOccupantId;
  if (m.realJidConflict || !m.realJid) return undefined;
  return r.features?.includes('muc_nonanonymous') ? m.realJid : undefined;
}
