// The history database's schema and row mapping (history.ts is the store built on it).
import { bareJid as bare } from '../lib/jid.js';

export type LoggingMode = 'on' | 'redact' | 'off';

export interface HistoryRecord {
  /** Own bare JID. */
  account: string;
  /** The window: the contact's bare JID. */
  peer: string;
  direction: 'in' | 'out';
  from: string;
  to: string;
  /** null when stored redacted (metadata only). */
  body: string | null;
  encryption: 'omemo' | 'none';
  stamp: string;
  /** The sender's message id (our own id for our messages; XEP-0359 origin-id equivalent). */
  msgId?: string;
  /** Id given by our server: XEP-0359 stanza-id or MAM archive id (one namespace for our archive). */
  serverId?: string;
  senderDevice?: number;
  trust?: string;
  carbon?: 'sent' | 'received';
  /**
   * A room message (window = the room's bare JID, `from` = room/nick). Its `serverId` is the
   * room's stanza-id / room archive id: a namespace of its own, kept apart from ours.
   */
  groupchat?: boolean;
}

export interface HistoryRow extends HistoryRecord {
  seq: number;
  redacted: boolean;
  /** Retracted by its sender (XEP-0424): the body is gone. */
  retracted?: boolean;
}

export interface DbRow {
  seq: number;
  account: string;
  peer: string;
  direction: 'in' | 'out';
  from_jid: string;
  from_bare: string;
  to_jid: string;
  body: string | null;
  encryption: 'omemo' | 'none';
  stamp: string;
  msg_id: string | null;
  server_id: string | null;
  sender_device: number | null;
  trust: string | null;
  carbon: 'sent' | 'received' | null;
  redacted: number;
  groupchat: number;
  retracted: number;
}

/** One ISO form (UTC, milliseconds) so stamps from servers and from us sort as text. */
export function normStamp(s: string): string {
  const t = Date.parse(s);
  return Number.isNaN(t) ? new Date().toISOString() : new Date(t).toISOString();
}

/** Room stanza-ids are only unique per room: stored qualified by the room (a JID has no space). */
export function dbServerId(peer: string, serverId: string | undefined, groupchat: boolean | undefined): string | null {
  if (serverId === undefined) return null;
  return groupchat ? `${bare(peer)} ${serverId}` : serverId;
}

export function toRow(r: DbRow): HistoryRow {
  const serverId = r.server_id === null ? null : r.groupchat === 1 ? r.server_id.slice(r.server_id.indexOf(' ') + 1) : r.server_id;
  return {
    seq: r.seq,
    account: r.account,
    peer: r.peer,
    direction: r.direction,
    from: r.from_jid,
    to: r.to_jid,
    body: r.body,
    encryption: r.encryption,
    stamp: r.stamp,
    redacted: r.redacted === 1,
    ...(r.msg_id !== null ? { msgId: r.msg_id } : {}),
    ...(serverId !== null ? { serverId } : {}),
    ...(r.sender_device !== null ? { senderDevice: r.sender_device } : {}),
    ...(r.trust !== null ? { trust: r.trust } : {}),
    ...(r.carbon !== null ? { carbon: r.carbon } : {}),
    ...(r.groupchat === 1 ? { groupchat: true } : {}),
    ...(r.retracted === 1 ? { retracted: true } : {}),
  };
}

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY,
  account TEXT NOT NULL,
  peer TEXT NOT NULL,
  direction TEXT NOT NULL,
  from_jid TEXT NOT NULL,
  from_bare TEXT NOT NULL,
  to_jid TEXT NOT NULL,
  body TEXT,
  encryption TEXT NOT NULL,
  stamp TEXT NOT NULL,
  msg_id TEXT,
  server_id TEXT,
  sender_device INTEGER,
  trust TEXT,
  carbon TEXT,
  redacted INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_server_id ON messages(account, server_id) WHERE server_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_msg_id ON messages(account, from_bare, msg_id) WHERE msg_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_peer ON messages(account, peer, stamp, seq);
CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(body, content='messages', content_rowid='seq');
CREATE TRIGGER IF NOT EXISTS messages_ai AFTER INSERT ON messages WHEN new.body IS NOT NULL BEGIN
  INSERT INTO messages_fts(rowid, body) VALUES (new.seq, new.body);
END;
CREATE TRIGGER IF NOT EXISTS messages_ad AFTER DELETE ON messages WHEN old.body IS NOT NULL BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.seq, old.body);
END;
-- One trigger: the old terms must leave the index before the new ones enter (words both share).
CREATE TRIGGER IF NOT EXISTS messages_au AFTER UPDATE OF body ON messages BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, body) SELECT 'delete', old.seq, old.body WHERE old.body IS NOT NULL;
  INSERT INTO messages_fts(rowid, body) SELECT new.seq, new.body WHERE new.body IS NOT NULL;
END;
-- The write-ahead journal of archive catch-up (src/omemo/session-hold.ts): the OMEMO session
-- records a page changed, committed with the page's messages; deleted once in the session store.
CREATE TABLE IF NOT EXISTS omemo_journal (
  account TEXT NOT NULL,
  jid TEXT NOT NULL,
  device_id INTEGER NOT NULL,
  before BLOB,
  after BLOB NOT NULL,
  PRIMARY KEY (account, jid, device_id)
);
CREATE TABLE IF NOT EXISTS kv (
  account TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (account, key)
);
`;
