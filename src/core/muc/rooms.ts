// The rooms we are in: occupants (nick → real JID, as the room's presence says), features, the
// room's encryption, and which room window is current.
import type { Encryption } from '../api.js';
import { bareJid } from '../../lib/jid.js';

export interface Occupant {
  jid?: string; // bare
  affiliation?: string;
  role?: string;
}

export interface Room {
  room: string;
  nick: string;
  password?: string;
  joined: boolean;
  occupants: Map<string, Occupant>;
  subject?: string;
  features?: string[];
  encryption: Encryption;
  /** Plaintext of our own messages by id: the reflection of an OMEMO message is not for us. */
  sent: Map<string, string>;
  /** The room archive was read up to now: live stanza-ids advance the stored position. */
  archiveSynced?: boolean;
  /** XEP-0421 occupant-id → real bare JID, learned from the room's presence (never from messages). */
  occupantIds: Map<string, string>;
}

/** Room features OMEMO needs (XEP-0384 §6: the real JIDs of all members must be known). */
export const OMEMO_ROOM_FEATURES = ['muc_nonanonymous', 'muc_membersonly'] as const;

const SENT_KEPT = 500;

export function newRoom(room: string, nick: string, encryption: Encryption): Room {
  return { room, nick, joined: false, occupants: new Map(), occupantIds: new Map(), encryption, sent: new Map() };
}

export function missingOmemoFeatures(r: Room): string[] {
  const f = new Set(r.features ?? []);
  return OMEMO_ROOM_FEATURES.filter((x) => !f.has(x));
}

export function describeFeature(f: string): string {
  return f === 'muc_nonanonymous' ? 'non-anonymous' : f === 'muc_membersonly' ? 'members-only' : f;
}

export function describeMissing(missing: string[]): string {
  return missing.map(describeFeature).join(' and ');
}

/** Keeps our own message's plaintext, for its reflection (bounded). */
export function keepSent(r: Room, id: string, text: string): void {
  r.sent.set(id, text);
  if (r.sent.size > SENT_KEPT) {
    const oldest = r.sent.keys().next();
    if (!oldest.done) r.sent.delete(oldest.value);
  }
}

export class RoomRegistry {
  private readonly map = new Map<string, Room>();
  private current?: string;

  get(room: string): Room | undefined {
    return this.map.get(bareJid(room));
  }
  set(r: Room): void {
    this.map.set(r.room, r);
  }
  delete(room: string): void {
    this.map.delete(room);
    if (this.current === room) this.current = undefined;
  }
  all(): Room[] {
    return [...this.map.values()];
  }
  jids(): string[] {
    return [...this.map.keys()];
  }
  has(jid: string): boolean {
    return this.map.has(bareJid(jid));
  }

  /** The session tells us which window is current (a room or not). */
  noteCurrent(jid: string | undefined): void {
    this.current = jid && this.has(jid) ? bareJid(jid) : undefined;
  }
  setCurrent(room: string): void {
    this.current = room;
  }

  /** The room a command names; without a name, the current room window. */
  of(room: string | undefined, what: string): Room {
    const name = room ?? this.current;
    const r = name ? this.get(name) : undefined;
    if (r) return r;
    if (room) throw new Error(`not in room ${bareJid(room)}: /join ${bareJid(room)} first`);
    throw new Error(`${what}: not in a room window (name the room, or /join one)`);
  }
}
