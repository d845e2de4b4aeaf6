// What group chat needs from the floors below: the XMPP room protocol and local history.
import type { XchatEvent } from '../api.js';
import type { EncryptedElement } from '../../omemo/manager.js';
import type { Affiliation, MucInvite, MucMessage, MucPresence, RoomInfo } from '../../xmpp/muc.js';
import type { Bookmark } from '../../xmpp/bookmarks.js';
import type { RoomMamPage } from '../../xmpp/mam.js';
import type { HistoryRow } from '../../store/history.js';

/** The ids of a room message, as far as the room gave them (src/xmpp/muc.ts MucMessage). */
export interface RoomMessageIds {
  room: string;
  nick: string;
  id?: string;
  originId?: string;
  stanzaId?: string;
  /** Set when read from the room's archive. */
  archiveId?: string;
  /** The room's delay stamp: a history replay, not a live message. */
  stamp?: string;
  /** Sent by us (our nick / real JID): matches our stored sent message by its id. */
  own: boolean;
}

/** What group chat needs from local history (history.ts HistoryCore). */
export interface RoomHistory {
  readonly available: boolean;
  receiveRoom(ids: RoomMessageIds, archived: boolean, handle: (known?: HistoryRow) => Promise<void>, replay: (e: XchatEvent) => void): Promise<void>;
  roomSync(room: string): { initialized: boolean; lastArchiveId?: string } | undefined;
  setRoomSync(room: string, lastArchiveId: string | undefined): void;
}

/** What the core needs from src/xmpp for group chat. */
export interface MucPort {
  onPresence(l: (p: MucPresence) => void): void;
  onMessage(l: (m: MucMessage) => void): void;
  onInvite(l: (i: MucInvite) => void): void;
  domain(): string;
  join(room: string, nick: string, opts?: { password?: string; maxHistory?: number }): Promise<MucPresence>;
  leave(room: string, nick: string): Promise<void>;
  changeNick(room: string, nick: string): Promise<void>;
  setSubject(room: string, subject: string): Promise<void>;
  invite(room: string, jid: string, reason?: string): Promise<void>;
  send(room: string, opts: { id: string; body?: string; encrypted?: EncryptedElement }): Promise<string>;
  info(jid: string): Promise<RoomInfo>;
  findService(): Promise<string | undefined>;
  configure(room: string, changes: Record<string, string | string[]>): Promise<void>;
  instantRoom(room: string): Promise<void>;
  affiliations(room: string, affiliation: Affiliation): Promise<{ jid: string; nick?: string }[]>;
  /** One page of the room's own archive (XEP-0313 to the room JID). */
  mamQuery?(room: string, q: { after?: string; before?: string; max?: number }): Promise<RoomMamPage>;
  setAffiliation(room: string, jid: string, affiliation: Affiliation, reason?: string): Promise<void>;
  bookmarks: { list(): Promise<Bookmark[]>; add(b: Bookmark): Promise<void>; remove(room: string): Promise<void> };
}

export type { Bookmark, MucPresence, MucMessage };
