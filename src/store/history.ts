// Local message history: one SQLite database per profile (better-sqlite3, WAL), every message
// stored once, decrypted, with the ids that let replays (MAM, offline delivery, carbons) be
// recognised. Appends are an indexed INSERT, so their cost does not grow with the history; FTS5
// (external content, kept in step by triggers) serves /search.
import Database from 'better-sqlite3';
import { closeSync, openSync, chmodSync } from 'node:fs';
import * as path from 'node:path';
import { FILE_MODE } from './profile.js';
import { bareJid as bare } from '../lib/jid.js';
import { SCHEMA, dbServerId, normStamp, toRow, type DbRow } from './history-schema.js';
import type { SessionJournalEntry } from '../omemo/session-hold.js';

export type { HistoryRecord, HistoryRow, LoggingMode } from './history-schema.js';
import type { HistoryRecord, HistoryRow, LoggingMode } from './history-schema.js';

export interface SyncState {
  /** Set once the first catch-up ran: from then on the archive is read from `lastArchiveId` on. */
  initialized: boolean;
  /** Newest archive id seen; absent with `initialized` = read the archive from its start. */
  lastArchiveId?: string;
}

export const HISTORY_FILE = 'history.db';

export class HistoryStore {
  private readonly db: Database.Database;
  private readonly stmts;

  private constructor(file: string) {
    // Create the file 0600 before SQLite opens it: its -wal/-shm files copy the main file's mode.
    if (file !== ':memory:') {
      closeSync(openSync(file, 'a', FILE_MODE));
      chmodSync(file, FILE_MODE);
    }
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a crash may lose the last commits, never corrupt; MAM refills them.
    this.db.pragma('synchronous = NORMAL');
    // SQLite's own default page cache (2 MB). better-sqlite3 builds with 16 MB, which reading a
    // long history (/history 100000) fills and the process then keeps for good.
    this.db.pragma('cache_size = -2000');
    this.db.exec(SCHEMA);
    // Columns added after the first release: older history files get them here.
    const cols = new Set(this.db.prepare<[], { name: string }>('PRAGMA table_info(messages)').all().map((c) => c.name));
    if (!cols.has('groupchat')) this.db.exec('ALTER TABLE messages ADD COLUMN groupchat INTEGER NOT NULL DEFAULT 0');
    if (!cols.has('retracted')) this.db.exec('ALTER TABLE messages ADD COLUMN retracted INTEGER NOT NULL DEFAULT 0');
    const d = this.db;
    this.stmts = {
      insert: d.prepare(
        `INSERT INTO messages (account, peer, direction, from_jid, from_bare, to_jid, body, encryption, stamp, msg_id, server_id, sender_device, trust, carbon, redacted, groupchat)
         VALUES (@account, @peer, @direction, @from_jid, @from_bare, @to_jid, @body, @encryption, @stamp, @msg_id, @server_id, @sender_device, @trust, @carbon, @redacted, @groupchat)`,
      ),
      byServerId: d.prepare<[string, string], DbRow>('SELECT * FROM messages WHERE account = ? AND server_id = ?'),
      byMsgId: d.prepare<[string, string, string], DbRow>(
        'SELECT * FROM messages WHERE account = ? AND from_bare = ? AND msg_id = ? ORDER BY seq DESC LIMIT 1',
      ),
      roomByMsgId: d.prepare<[string, string, string], DbRow>(
        'SELECT * FROM messages WHERE account = ? AND peer = ? AND msg_id = ? AND groupchat = 1 ORDER BY seq DESC',
      ),
      byPeerMsgId: d.prepare<[string, string, string, string], DbRow>(
        'SELECT * FROM messages WHERE account = ? AND peer = ? AND from_bare = ? AND msg_id = ? ORDER BY seq DESC LIMIT 1',
      ),
      setBody: d.prepare<[string | null, number, number]>('UPDATE messages SET body = ?, retracted = ? WHERE seq = ?'),
      setServerId: d.prepare<[string, number]>('UPDATE messages SET server_id = ? WHERE seq = ? AND server_id IS NULL'),
      recent: d.prepare<[string, string, number], DbRow>(
        'SELECT * FROM messages WHERE account = ? AND peer = ? ORDER BY stamp DESC, seq DESC LIMIT ?',
      ),
      recentStart: d.prepare<[string, string, number], { stamp: string; seq: number }>(
        'SELECT stamp, seq FROM messages WHERE account = ? AND peer = ? ORDER BY stamp DESC, seq DESC LIMIT 1 OFFSET ?',
      ),
      // A row-value bound, so each page starts from the index instead of scanning the peer's rows.
      pageFrom: d.prepare<[string, string, string, number, number], DbRow>(
        'SELECT * FROM messages WHERE account = ? AND peer = ? AND (stamp, seq) >= (?, ?) ORDER BY stamp ASC, seq ASC LIMIT ?',
      ),
      before: d.prepare<[string, string, string, number], DbRow>('SELECT * FROM messages WHERE account = ? AND peer = ? AND stamp < ? ORDER BY stamp DESC, seq DESC LIMIT ?'),
      after: d.prepare<[string, string, string, number], DbRow>('SELECT * FROM messages WHERE account = ? AND peer = ? AND stamp > ? ORDER BY stamp ASC, seq ASC LIMIT ?'),
      oldestServerId: d.prepare<[string, string], { server_id: string }>(
        'SELECT server_id FROM messages WHERE account = ? AND peer = ? AND server_id IS NOT NULL ORDER BY stamp ASC, seq ASC LIMIT 1',
      ),
      search: d.prepare<[string, string, number], DbRow>(
        `SELECT m.* FROM messages_fts f JOIN messages m ON m.seq = f.rowid
         WHERE messages_fts MATCH ? AND m.account = ? ORDER BY m.seq DESC LIMIT ?`,
      ),
      searchPeer: d.prepare<[string, string, string, number], DbRow>(
        `SELECT m.* FROM messages_fts f JOIN messages m ON m.seq = f.rowid
         WHERE messages_fts MATCH ? AND m.account = ? AND m.peer = ? ORDER BY m.seq DESC LIMIT ?`,
      ),
      count: d.prepare<[string], { n: number }>('SELECT count(*) AS n FROM messages WHERE account = ?'),
      putJournal: d.prepare<[string, string, number, Uint8Array | null, Uint8Array]>(
        'INSERT OR REPLACE INTO omemo_journal (account, jid, device_id, before, after) VALUES (?, ?, ?, ?, ?)',
      ),
      journal: d.prepare<[string], { jid: string; device_id: number; before: Uint8Array | null; after: Uint8Array }>(
        'SELECT jid, device_id, before, after FROM omemo_journal WHERE account = ?',
      ),
      clearJournal: d.prepare<[string]>('DELETE FROM omemo_journal WHERE account = ?'),
      getKv: d.prepare<[string, string], { value: string }>('SELECT value FROM kv WHERE account = ? AND key = ?'),
      setKv: d.prepare<[string, string, string]>(
        'INSERT INTO kv (account, key, value) VALUES (?, ?, ?) ON CONFLICT(account, key) DO UPDATE SET value = excluded.value',
      ),
    };
  }

  /** Opens (creating) `<profileDir>/history.db`; `':memory:'` for tests. */
  static open(profileDir: string): HistoryStore {
    return new HistoryStore(profileDir === ':memory:' ? ':memory:' : path.join(profileDir, HISTORY_FILE));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * The stored room message this one repeats: same room stanza-id / room archive id, or the same
   * message id from the same occupant (nick), or — when `own` — one of our own sent messages (its
   * reflection carries our id as origin-id). Ids from other occupants never match: a message id is
   * only unique per sender.
   */
  findRoom(account: string, room: string, ids: { serverId?: string; from?: string; msgIds?: string[]; own?: boolean }): HistoryRow | undefined {
    if (ids.serverId) {
      const r = this.stmts.byServerId.get(account, dbServerId(room, ids.serverId, true)!);
      if (r) return toRow(r);
    }
    for (const id of ids.msgIds ?? []) {
      for (const r of this.stmts.roomByMsgId.all(account, bare(room), id)) {
        if (r.server_id !== null && ids.serverId) continue; // two room stanza-ids: two messages
        if ((ids.own && r.direction === 'out') || (ids.from !== undefined && r.from_jid === ids.from)) return toRow(r);
      }
    }
    return undefined;
  }

  /**
   * Applies a correction (new body) or a retraction (body removed, also from the search index) to
   * the message `msgId` that `sender` (bare JID) sent in window `peer`. Returns whether one matched.
   */
  edit(account: string, peer: string, sender: string, msgId: string, change: { body: string } | { retract: true }): boolean {
    const r = this.stmts.byPeerMsgId.get(account, bare(peer), bare(sender), msgId);
    if (!r) return false;
    if ('retract' in change) this.stmts.setBody.run(null, 1, r.seq);
    else if (r.redacted !== 1 && r.retracted !== 1) this.stmts.setBody.run(change.body, 0, r.seq); // a retraction is final
    return true;
  }

  /** The stored message this one repeats (same server id, or same sender and message id). */
  find(account: string, ids: { serverId?: string; from?: string; msgId?: string; body?: string }): HistoryRow | undefined {
    if (ids.serverId) {
      const r = this.stmts.byServerId.get(account, ids.serverId);
      if (r) return toRow(r);
    }
    if (ids.msgId && ids.from) {
      const r = this.stmts.byMsgId.get(account, bare(ids.from), ids.msgId);
      // Two different server ids are two messages, whatever their senders' ids say — unless the
      // text is the same too: then it is the sender's resend of a stanza the server never
      // confirmed (XEP-0198), archived a second time.
      if (r && (r.server_id === null || !ids.serverId || (ids.body !== undefined && r.body === ids.body))) return toRow(r);
    }
    return undefined;
  }

  /**
   * Stores `rec` unless it is already there (by server id, or by sender + message id: then a newly
   * learned server id is attached, e.g. our own sent message replayed by the archive).
   * `mode` 'redact' keeps metadata only; 'off' stores nothing. Returns whether it was new.
   */
  add(rec: HistoryRecord, mode: LoggingMode = 'on'): { added: boolean; row?: HistoryRow } {
    const existing = rec.groupchat
      ? this.findRoom(rec.account, rec.peer, { serverId: rec.serverId, from: rec.from, msgIds: rec.msgId ? [rec.msgId] : [], own: rec.direction === 'out' })
      : this.find(rec.account, { serverId: rec.serverId, from: rec.from, msgId: rec.msgId });
    if (existing) {
      if (rec.serverId && !existing.serverId) {
        this.stmts.setServerId.run(dbServerId(rec.peer, rec.serverId, existing.groupchat)!, existing.seq);
        existing.serverId = rec.serverId;
      }
      return { added: false, row: existing };
    }
    if (mode === 'off') return { added: true };
    const redacted = mode === 'redact';
    const info = this.stmts.insert.run({
      account: rec.account,
      peer: rec.peer,
      direction: rec.direction,
      from_jid: rec.from,
      from_bare: bare(rec.from),
      to_jid: rec.to,
      body: redacted ? null : rec.body,
      encryption: rec.encryption,
      stamp: normStamp(rec.stamp),
      msg_id: rec.msgId ?? null,
      server_id: dbServerId(rec.peer, rec.serverId, rec.groupchat),
      sender_device: rec.senderDevice ?? null,
      trust: rec.trust ?? null,
      carbon: rec.carbon ?? null,
      redacted: redacted ? 1 : 0,
      groupchat: rec.groupchat ? 1 : 0,
    });
    const row: HistoryRow = { ...rec, stamp: normStamp(rec.stamp), body: redacted ? null : rec.body, seq: Number(info.lastInsertRowid), redacted };
    return { added: true, row };
  }

  /** The last `n` messages of a window, oldest first. */
  recent(account: string, peer: string, n: number): HistoryRow[] {
    return this.stmts.recent.all(account, bare(peer), n).map(toRow).reverse();
  }

  /**
   * Same rows as recent(), in pages of `page`: /history 100000 never holds 100 000 rows at once
   * (the TUI's memory peak). Pages, not one open iterator, so callers may use the store between.
   */
  *recentPages(account: string, peer: string, n: number, page = 1000): Generator<HistoryRow[]> {
    if (n <= 0) return;
    const p = bare(peer);
    let from = this.stmts.recentStart.get(account, p, n - 1) ?? { stamp: '', seq: 0 };
    for (let left = n; left > 0; ) {
      const rows = this.stmts.pageFrom.all(account, p, from.stamp, from.seq, Math.min(page, left));
      if (rows.length === 0) return;
      left -= rows.length;
      const last = rows[rows.length - 1];
      from = { stamp: last.stamp, seq: last.seq + 1 };
      yield rows.map(toRow);
    }
  }

  /** Messages whose body contains all words of `text` (newest `limit`), oldest first. */
  search(account: string, text: string, opts: { peer?: string; limit?: number } = {}): HistoryRow[] {
    const words = text.split(/\s+/).filter(Boolean);
    if (words.length === 0) return [];
    // Each word as a quoted FTS5 string: user text never becomes query syntax.
    const q = words.map((w) => `"${w.replace(/"/g, '""')}"`).join(' ');
    const limit = opts.limit ?? 100;
    const rows = opts.peer ? this.stmts.searchPeer.all(q, account, bare(opts.peer), limit) : this.stmts.search.all(q, account, limit);
    return rows.map(toRow).reverse();
  }

  /** Up to `n` messages of a window next to a moment, oldest first: the newest before it, or the oldest after it. */
  around(account: string, peer: string, at: { before: string } | { after: string }, n: number): HistoryRow[] {
    if ('before' in at) return this.stmts.before.all(account, bare(peer), normStamp(at.before), n).map(toRow).reverse();
    return this.stmts.after.all(account, bare(peer), normStamp(at.after), n).map(toRow);
  }

  /** The archive id of the oldest stored message of a window (where paging back starts). */
  oldestServerId(account: string, peer: string): string | undefined {
    return this.stmts.oldestServerId.get(account, bare(peer))?.server_id;
  }

  count(account: string): number {
    return this.stmts.count.get(account)?.n ?? 0;
  }

  /** `archive`: a room's bare JID for that room's archive; our own archive otherwise. */
  getSyncState(account: string, archive?: string): SyncState {
    const v = this.stmts.getKv.get(account, archive ? `mam:${bare(archive)}` : 'mam');
    if (!v) return { initialized: false };
    try {
      const s = JSON.parse(v.value) as SyncState;
      return { initialized: true, ...(typeof s.lastArchiveId === 'string' ? { lastArchiveId: s.lastArchiveId } : {}) };
    } catch {
      return { initialized: false };
    }
  }

  setSyncState(account: string, s: { lastArchiveId?: string }, archive?: string): void {
    this.stmts.setKv.run(account, archive ? `mam:${bare(archive)}` : 'mam', JSON.stringify({ lastArchiveId: s.lastArchiveId }));
  }

  getLogging(account: string): LoggingMode {
    const v = this.stmts.getKv.get(account, 'logging')?.value;
    return v === 'off' || v === 'redact' ? v : 'on';
  }

  setLogging(account: string, mode: LoggingMode): void {
    this.stmts.setKv.run(account, 'logging', mode);
  }

  // ---- archive catch-up pages -----------------------------------------------------------------

  /**
   * Opens one catch-up page's transaction: everything stored until commitPage() lands at once.
   * Async work runs while it is open; the session's one queue keeps other writers out meanwhile.
   */
  beginPage(): void {
    if (this.db.inTransaction) throw new Error('history: a catch-up page is already open');
    // The page's commit is fsynced (NORMAL would not be): the OMEMO sessions that decrypted it are
    // written durably right after, and must never be on disk without the messages.
    this.db.pragma('synchronous = FULL');
    this.db.exec('BEGIN');
  }

  /** Commits the page with its OMEMO session journal and the archive position it reached. */
  commitPage(account: string, journal: SessionJournalEntry[], lastArchiveId: string | undefined): void {
    try {
      // SQLite rolls a transaction back by itself on some errors (disk full, I/O): then nothing of
      // the page is stored, and committing the rest alone would skip what was lost.
      if (!this.db.inTransaction) throw new Error('history: the catch-up page was rolled back by SQLite');
      for (const e of journal) this.stmts.putJournal.run(account, e.addr.jid, e.addr.deviceId, e.before ?? null, e.after);
      if (lastArchiveId) this.setSyncState(account, { lastArchiveId });
      this.db.exec('COMMIT');
    } finally {
      this.rollbackPage();
    }
  }

  /** Drops an open page (nothing of it is stored). */
  rollbackPage(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    this.db.pragma('synchronous = NORMAL');
  }

  /** Journal entries committed with a page whose sessions may not all be in the session store. */
  sessionJournal(account: string): SessionJournalEntry[] {
    // Plain byte arrays, as the OMEMO store hands records out (SQLite gives Buffers).
    return this.stmts.journal.all(account).map((r) => ({
      addr: { jid: r.jid, deviceId: r.device_id },
      ...(r.before ? { before: new Uint8Array(r.before) } : {}),
      after: new Uint8Array(r.after),
    }));
  }

  clearSessionJournal(account: string): void {
    this.stmts.clearJournal.run(account);
  }

  /** Runs `fn` in one transaction (filling a history at once: benchmarks, tests). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}
