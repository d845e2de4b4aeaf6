// Local history: de-duplication by server id and by sender + message id, redacted logging,
// search, sync state, and file modes.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryStore, type HistoryRecord } from '../../src/store/history.js';

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
});
