// Local history: de-duplication by server id and by sender + message id, redacted logging,
// search, sync state, and file modes.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { HistoryStore, type HistoryRecord } from '../../src/store/history.js';
import { HistoryCore, type RoomMessageIds } from '../../src/core/history.js';
import type { XchatEvent } from '../../src/core/api.js';

const A = 'alice@example.org';
const B = 'bob@example.org';

function rec(over: Partial<HistoryRecord> = {}): HistoryRecord {
  return { account: A, peer: B, direction: 'in', from: `${B}/phone`, to: A, body: 'hi', encryption: 'omemo', stamp: '2024-01-01T00:00:00Z', ...over };
}

describe('HistoryStore', () => {
  let h: HistoryStore | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    h?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    h = undefined;
    dir = undefined;
  });

  it('stores a message once: a replay with the same server id or sender+message id is a duplicate', () => {
    h = HistoryStore.open(':memory:');
    expect(h.add(rec({ serverId: 's1', msgId: 'm1', body: 'one' })).added).toBe(true);
    expect(h.add(rec({ serverId: 's1', body: 'one again' })).added).toBe(false);
    expect(h.add(rec({ msgId: 'm1', body: 'one via other path' })).added).toBe(false);
    // Same message id from another sender is a different message.
    expect(h.add(rec({ from: 'carol@example.org/x', peer: 'carol@example.org', msgId: 'm1', body: 'carol' })).added).toBe(true);
    expect(h.recent(A, B, 10).map((r) => r.body)).toEqual(['one']);
  });

  it('the same message id with another server id is another message (clients number per session)', () => {
    h = HistoryStore.open(':memory:');
    expect(h.add(rec({ serverId: 's1', msgId: '1', body: 'first session' })).added).toBe(true);
    expect(h.find(A, { serverId: 's2', from: `${B}/phone`, msgId: '1' })).toBeUndefined();
    expect(h.add(rec({ serverId: 's2', msgId: '1', body: 'after a restart' })).added).toBe(true);
    expect(h.recent(A, B, 10).map((r) => r.body)).toEqual(['first session', 'after a restart']);
    // The archive's copy of the second (same server id) is still a duplicate.
    expect(h.add(rec({ serverId: 's2', msgId: '1', body: 'replayed' })).added).toBe(false);
    // In a room too: same nick, same origin-id, two room stanza-ids.
    const R = 'room@muc.example.org';
    const room = (serverId: string, body: string) => rec({ peer: R, from: `${R}/bob`, groupchat: true, serverId, msgId: '7', body });
    expect(h.add(room('r1', 'room one')).added).toBe(true);
    expect(h.add(room('r2', 'room two')).added).toBe(true);
    expect(h.add(room('r2', 'room two again')).added).toBe(false);
  });

  it('keeps the plaintext of our own sent message and attaches the archive id when the archive replays it', () => {
    h = HistoryStore.open(':memory:');
    h.add(rec({ direction: 'out', from: `${A}/xchat`, to: B, msgId: 'own-1', body: 'my secret' }));
    const replay = h.add(rec({ direction: 'out', from: `${A}/xchat`, to: B, msgId: 'own-1', serverId: 'arch-9', body: null }));
    expect(replay.added).toBe(false);
    expect(replay.row?.body).toBe('my secret');
    expect(h.find(A, { serverId: 'arch-9' })?.body).toBe('my secret');
  });

  it('recent returns the last N of a window, oldest first, and separates accounts and windows', () => {
    h = HistoryStore.open(':memory:');
    for (let i = 0; i < 5; i++) h.add(rec({ body: `m${i}`, msgId: `id${i}` }));
    h.add(rec({ peer: 'carol@example.org', from: 'carol@example.org', body: 'other window' }));
    h.add(rec({ account: 'zed@example.org', body: 'other account' }));
    expect(h.recent(A, B, 3).map((r) => r.body)).toEqual(['m2', 'm3', 'm4']);
    expect(h.count(A)).toBe(6);
  });

  it('redact mode stores metadata but no body, and off stores nothing', () => {
    h = HistoryStore.open(':memory:');
    const r = h.add(rec({ body: 'do not keep me', msgId: 'r1', serverId: 'sr1' }), 'redact');
    expect(r.added).toBe(true);
    const [row] = h.recent(A, B, 5);
    expect(row).toMatchObject({ body: null, redacted: true, msgId: 'r1', serverId: 'sr1' });
    expect(h.search(A, 'keep')).toEqual([]);
    expect(h.add(rec({ body: 'nothing', msgId: 'o1' }), 'off').added).toBe(true);
    expect(h.count(A)).toBe(1);
    // A redacted row still de-duplicates the replay.
    expect(h.add(rec({ serverId: 'sr1', body: 'do not keep me' })).added).toBe(false);
  });

  it('searches bodies in one window or all, treating the query as plain words', () => {
    h = HistoryStore.open(':memory:');
    h.add(rec({ body: 'the quick brown fox' }));
    h.add(rec({ body: 'lazy dog' }));
    h.add(rec({ peer: 'carol@example.org', from: 'carol@example.org', body: 'quick carol' }));
    expect(h.search(A, 'quick', { peer: B }).map((r) => r.body)).toEqual(['the quick brown fox']);
    expect(h.search(A, 'quick').map((r) => r.body)).toEqual(['the quick brown fox', 'quick carol']);
    expect(h.search(A, 'brown quick').length).toBe(1);
    expect(h.search(A, 'fox" OR "dog')).toEqual([]); // no query syntax injection
    expect(h.search(A, 'NEAR(')).toEqual([]);
  });

  it('persists sync state and logging mode; files are 0600', async () => {
    dir = await mkdtemp(join(tmpdir(), 'xchat-hist-'));
    h = HistoryStore.open(dir);
    expect(h.getSyncState(A)).toEqual({ initialized: false });
    h.setSyncState(A, {});
    expect(h.getSyncState(A)).toEqual({ initialized: true });
    h.setSyncState(A, { lastArchiveId: 'x1' });
    h.setLogging(A, 'redact');
    h.add(rec({ body: 'persisted', serverId: 'p1' }));
    h.close();
    h = HistoryStore.open(dir);
    expect(h.getSyncState(A)).toEqual({ initialized: true, lastArchiveId: 'x1' });
    expect(h.getLogging(A)).toBe('redact');
    expect(h.getLogging(B)).toBe('on');
    expect(h.find(A, { serverId: 'p1' })?.body).toBe('persisted');
    for (const f of ['history.db', 'history.db-wal']) {
      const s = await stat(join(dir, f)).catch(() => undefined);
      if (s) expect(s.mode & 0o777, f).toBe(0o600);
    }
  });

  const ROOM = 'team@muc.example.org';
  const room = (over: Partial<HistoryRecord> = {}): HistoryRecord =>
    rec({ peer: ROOM, from: `${ROOM}/bob`, groupchat: true, body: 'room hi', ...over });

  it('stores a room message once per room stanza-id; message ids only match the same occupant or our own sent message', () => {
    h = HistoryStore.open(':memory:');
    expect(h.add(room({ serverId: 'r1', msgId: 'm1' })).added).toBe(true);
    expect(h.add(room({ serverId: 'r1', body: 'replayed' })).added).toBe(false);
    expect(h.add(room({ msgId: 'm1', body: 'same occupant, same id' })).added).toBe(false);
    // Another occupant using the same message id is another message.
    expect(h.add(room({ from: `${ROOM}/carol`, msgId: 'm1', body: 'carol' })).added).toBe(true);
    // Room stanza-ids are the room's namespace: the same id elsewhere is another message.
    expect(h.add(room({ peer: 'other@muc.example.org', from: 'other@muc.example.org/bob', serverId: 'r1', body: 'other room' })).added).toBe(true);
    expect(h.add(rec({ serverId: 'r1', body: 'our archive' })).added).toBe(true);
    expect(h.findRoom(A, ROOM, { serverId: 'r1' })).toMatchObject({ body: 'room hi', serverId: 'r1', groupchat: true });
    // Our own sent message: its reflection (our id as origin-id, maybe another nick) matches it.
    h.add(room({ direction: 'out', from: `${ROOM}/alice`, msgId: 'own-1', body: 'my room secret' }));
    expect(h.findRoom(A, ROOM, { from: `${ROOM}/alice2`, msgIds: ['own-1'], own: false })).toBeUndefined();
    const refl = h.add(room({ direction: 'out', from: `${ROOM}/alice`, msgId: 'own-1', serverId: 'r9', body: 'x' }));
    expect(refl).toMatchObject({ added: false, row: { body: 'my room secret' } });
    expect(h.findRoom(A, ROOM, { serverId: 'r9' })?.body).toBe('my room secret');
    expect(h.recent(A, ROOM, 10).map((r) => r.body)).toEqual(['room hi', 'carol', 'my room secret']);
    expect(h.search(A, 'secret', { peer: ROOM }).map((r) => r.body)).toEqual(['my room secret']);
  });

  it('a correction replaces the stored body and a retraction removes it, also from search; only the sender can', () => {
    h = HistoryStore.open(':memory:');
    h.add(rec({ msgId: 'c1', body: 'teh typo' }));
    h.add(rec({ msgId: 'c2', body: 'regrettable words' }));
    expect(h.edit(A, B, 'mallory@example.org', 'c2', { retract: true })).toBe(false);
    expect(h.edit(A, B, B, 'c1', { body: 'the fixed text' })).toBe(true);
    expect(h.edit(A, B, B, 'c2', { retract: true })).toBe(true);
    expect(h.search(A, 'typo')).toEqual([]);
    expect(h.search(A, 'fixed').map((r) => r.msgId)).toEqual(['c1']);
    expect(h.search(A, 'regrettable')).toEqual([]);
    expect(h.recent(A, B, 5).map((r) => [r.body, r.retracted ?? false])).toEqual([
      ['the fixed text', false],
      [null, true],
    ]);
  });

  it('keeps one archive position per room, apart from our own archive', () => {
    h = HistoryStore.open(':memory:');
    h.setSyncState(A, { lastArchiveId: 'own-9' });
    expect(h.getSyncState(A, ROOM)).toEqual({ initialized: false });
    h.setSyncState(A, { lastArchiveId: 'room-3' }, ROOM);
    expect(h.getSyncState(A, ROOM)).toEqual({ initialized: true, lastArchiveId: 'room-3' });
    expect(h.getSyncState(A)).toEqual({ initialized: true, lastArchiveId: 'own-9' });
  });

  it('opens a history file from before room messages and retractions', async () => {
    dir = await mkdtemp(join(tmpdir(), 'xchat-hist-'));
    const old = new Database(join(dir, 'history.db'));
    old.exec(`CREATE TABLE messages (seq INTEGER PRIMARY KEY, account TEXT NOT NULL, peer TEXT NOT NULL, direction TEXT NOT NULL,
      from_jid TEXT NOT NULL, from_bare TEXT NOT NULL, to_jid TEXT NOT NULL, body TEXT, encryption TEXT NOT NULL, stamp TEXT NOT NULL,
      msg_id TEXT, server_id TEXT, sender_device INTEGER, trust TEXT, carbon TEXT, redacted INTEGER NOT NULL DEFAULT 0);
      INSERT INTO messages (account, peer, direction, from_jid, from_bare, to_jid, body, encryption, stamp) VALUES ('${A}', '${B}', 'in', '${B}', '${B}', '${A}', 'old one', 'none', '2024-01-01T00:00:00.000Z');`);
    old.close();
    h = HistoryStore.open(dir);
    expect(h.recent(A, B, 5).map((r) => r.body)).toEqual(['old one']);
    expect(h.add(room({ serverId: 's1' })).added).toBe(true);
  });
});

describe('HistoryCore (room messages, corrections, retractions)', () => {
  const ROOM = 'team@muc.example.org';
  const ids = (over: Partial<RoomMessageIds> = {}): RoomMessageIds => ({ room: ROOM, nick: 'bob', own: false, ...over });
  const msg = (over: Partial<Extract<XchatEvent, { event: 'message' }>> = {}): XchatEvent => ({
    event: 'message', from: `${ROOM}/bob`, to: A, body: 'hello room', encryption: 'omemo', stamp: '2024-01-01T00:00:00Z', groupchat: true, nick: 'bob', ...over,
  });

  it('stores a room message in the room window once; a replay is shown from the store, not handled again', async () => {
    const store = HistoryStore.open(':memory:');
    const core = new HistoryCore(store, () => A, () => 'alice');
    const shown: XchatEvent[] = [];
    let handled = 0;
    const handle = async () => {
      handled++;
      shown.push(core.decorate(msg()));
    };
    await core.receiveRoom(ids({ stanzaId: 's1', id: 'm1' }), false, handle, (e) => shown.push(e));
    // The same message again in the join history / room archive of this process: nothing new.
    await core.receiveRoom(ids({ archiveId: 's1', stamp: '2024-01-01T00:00:00Z' }), true, handle, (e) => shown.push(e));
    expect(handled).toBe(1);
    expect(shown).toHaveLength(1);
    expect(store.recent(A, ROOM, 5).map((r) => r.body)).toEqual(['hello room']);
    expect(core.search('hello', ROOM)).toMatchObject([{ groupchat: true, nick: 'bob', body: 'hello room', archived: true }]);
    // After a restart (a new core), the replay is shown once from the store.
    const core2 = new HistoryCore(store, () => A);
    const later: XchatEvent[] = [];
    await core2.receiveRoom(ids({ stanzaId: 's1', stamp: '2024-01-01T00:00:00Z' }), false, handle, (e) => later.push(e));
    await core2.receiveRoom(ids({ stanzaId: 's1', stamp: '2024-01-01T00:00:00Z' }), false, handle, (e) => later.push(e));
    expect(handled).toBe(1);
    expect(later).toMatchObject([{ body: 'hello room', archived: true, groupchat: true }]);
    store.close();
  });

  it('keeps the plaintext of our own room message: its reflection after a restart shows it', async () => {
    const store = HistoryStore.open(':memory:');
    const core = new HistoryCore(store, () => A, () => 'alice');
    core.decorate({ event: 'sent', to: ROOM, id: 'own-1', body: 'my encrypted words', encryption: 'omemo', groupchat: true });
    // The live reflection is still handled (the room's confirmation) but not stored twice.
    let known: unknown;
    await core.receiveRoom(ids({ nick: 'alice', originId: 'own-1', stanzaId: 's7', own: true }), false, async (k) => {
      known = k;
      core.decorate(msg({ from: `${ROOM}/alice`, nick: 'alice', body: 'my encrypted words', own: true }));
    }, () => undefined);
    expect(known).toMatchObject({ body: 'my encrypted words', direction: 'out' });
    expect(store.count(A)).toBe(1);
    const restarted = new HistoryCore(store, () => A);
    const shown: XchatEvent[] = [];
    await restarted.receiveRoom(ids({ nick: 'alice', archiveId: 's7', own: true, stamp: '2024-01-01T00:00:00Z' }), true, async () => {
      throw new Error('must not be decrypted again');
    }, (e) => shown.push(e));
    expect(shown).toMatchObject([{ from: `${ROOM}/alice`, body: 'my encrypted words', own: true, groupchat: true }]);
    store.close();
  });

  it('correction and retraction events update the stored message of their window', () => {
    const store = HistoryStore.open(':memory:');
    const core = new HistoryCore(store, () => A);
    core.decorate({ event: 'sent', to: B, id: 'o1', body: 'first draft', encryption: 'none' });
    core.decorate({ event: 'correction', from: A, to: B, id: 'o1', new_id: 'o2', body: 'second draft', encryption: 'none', stamp: '2024-01-01T00:00:00Z' });
    expect(core.search('draft', B)).toMatchObject([{ body: 'second draft' }]);
    core.decorate({ event: 'retraction', from: A, to: B, id: 'o1' });
    expect(core.search('draft', B)).toEqual([]);
    expect(core.recent(B, 5)).toMatchObject([{ body: '[retracted]' }]);
    store.close();
  });
});

describe('catch-up pages', () => {
  const rec = (i: number) => ({ account: 'me@x', peer: 'bob@x', direction: 'in' as const, from: 'bob@x/r', to: 'me@x', body: `m${i}`, encryption: 'omemo' as const, stamp: '2026-01-01T00:00:00Z', serverId: `a${i}` });
  const entry = { addr: { jid: 'bob@x', deviceId: 5 }, before: new Uint8Array([1]), after: new Uint8Array([2, 3]) };

  it('a page lands at once with its session journal and archive position, or not at all', () => {
    const h = HistoryStore.open(':memory:');
    h.beginPage();
    h.add(rec(1));
    h.rollbackPage();
    expect(h.count('me@x')).toBe(0);
    h.beginPage();
    h.add(rec(1));
    h.add(rec(2));
    h.commitPage('me@x', [entry], 'a2');
    expect(h.count('me@x')).toBe(2);
    expect(h.getSyncState('me@x')).toEqual({ initialized: true, lastArchiveId: 'a2' });
    expect(h.sessionJournal('me@x')).toEqual([entry]);
    h.clearSessionJournal('me@x');
    expect(h.sessionJournal('me@x')).toEqual([]);
    // A page whose transaction SQLite dropped is refused, not committed piecemeal.
    h.beginPage();
    h.add(rec(3));
    (h as unknown as { db: { exec(s: string): void } }).db.exec('ROLLBACK');
    expect(() => h.commitPage('me@x', [], 'a3')).toThrow(/rolled back/);
    expect(h.getSyncState('me@x').lastArchiveId).toBe('a2');
    h.close();
  });
});
