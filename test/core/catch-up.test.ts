// Archive catch-up in batches, over the fake XMPP floor (no Prosody): each page of the archive is
// decrypted and stored as one batch (one OMEMO session write per page, not per message), the next
// page is asked for before the current one is decrypted, and a page that fails or is cut short by
// a crash loses nothing: it is read again, and every message arrives exactly once.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccountSession } from '../../src/core/account-session.js';
import type { XchatEvent } from '../../src/core/api.js';
import type { ArchivePage } from '../../src/core/ports.js';
import { CATCH_UP_PAGE } from '../../src/core/session/archive.js';
import { OmemoManager } from '../../src/omemo/manager.js';
import { MemoryOmemoStore } from '../../src/omemo/memory-store.js';
import { HistoryStore } from '../../src/store/history.js';
import { FakePeer, FakePort, FakeServer, fakeDeps } from '../helpers/fake-xmpp.js';

const ME = 'me@example.org';
const BOB = 'bob@example.org';
/** Two full pages and part of a third. */
const N = 2 * CATCH_UP_PAGE + 100;
const body = (i: number) => `away-${i}`;
const all = Array.from({ length: N }, (_, i) => body(i));

const dirs: string[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/**
 * A profile on disk (history file; the OMEMO store is one memory store that outlives sessions, as
 * the profile's files do), with bob's N encrypted messages archived while it was away.
 */
async function awayProfile() {
  const dir = await mkdtemp(join(tmpdir(), 'xchat-catch-up-'));
  dirs.push(dir);
  const server = new FakeServer();
  const omemo = new MemoryOmemoStore();
  const bob = await FakePeer.create(server, BOB);
  const open = (port?: FakePort, history = HistoryStore.open(dir)) => {
    const events: XchatEvent[] = [];
    const s = new AccountSession(fakeDeps(() => port ?? new FakePort(server), { history, openOmemoStore: async () => omemo, defaultJid: ME }));
    s.on((e) => events.push(e));
    return { s, events, history };
  };
  // The first connection of a new profile marks the archive position; then it goes away.
  const first = open();
  await first.s.connect({ jid: ME });
  await first.s.drain();
  await first.s.disconnect();
  first.history.close();
  for (let i = 0; i < N; i++) {
    server.archive.push({ archiveId: `a${i}`, from: `${BOB}/phone`, to: ME, type: 'chat', id: `m${i}`, encrypted: await bob.encryptTo(ME, body(i)) });
  }
  return { dir, server, omemo, bob, open };
}

/** A port that records, for each archive query, what had happened by the time it was sent. */
function watchedPort(server: FakeServer, at: () => Record<string, unknown>) {
  const port = new FakePort(server);
  const queries: Record<string, unknown>[] = [];
  const query = port.mamQuery.bind(port);
  port.mamQuery = (q): Promise<ArchivePage> => {
    queries.push({ after: q.after, ...at() });
    return query(q);
  };
  return { port, queries };
}

const shown = (events: XchatEvent[]) => events.flatMap((e) => (e.event === 'message' ? [e.body] : []));
const storedBodies = (h: HistoryStore) => h.recent(ME, BOB, 10 * N).map((r) => r.body);

describe('archive catch-up in batches', () => {
  it('writes each OMEMO session once per page, and asks for the next page before decrypting this one', async () => {
    const p = await awayProfile();
    const decrypt = vi.spyOn(OmemoManager.prototype, 'decrypt');
    const writes0 = p.omemo.sessionWrites;
    const { port, queries } = watchedPort(p.server, () => ({ decrypted: decrypt.mock.calls.length, sessionWrites: p.omemo.sessionWrites - writes0 }));
    const { s, events, history } = p.open(port);
    await s.connect({ jid: ME });
    await s.drain();
    expect(shown(events)).toEqual(all);
    expect(queries).toEqual([
      // Page 2 is asked for as soon as page 1 arrives, before any of it is decrypted.
      { after: undefined, decrypted: 0, sessionWrites: 0 },
      { after: `a${CATCH_UP_PAGE - 1}`, decrypted: 0, sessionWrites: 0 },
      // Page 3 once page 2 arrived: page 1 is decrypted and durable (one session write), page 2 untouched.
      { after: `a${2 * CATCH_UP_PAGE - 1}`, decrypted: CATCH_UP_PAGE, sessionWrites: 1 },
    ]);
    // One write per page (3), one for the empty message that completes the new session at the end.
    expect(p.omemo.sessionWrites - writes0).toBe(4);
    expect(storedBodies(history)).toEqual(all);
    expect(history.getSyncState(ME).lastArchiveId).toBe(`a${N - 1}`);
  });

  it('a store failure in a page drops that page; the next catch-up reads it again and every message arrives once', async () => {
    const p = await awayProfile();
    const first = p.open();
    const add = first.history.add.bind(first.history);
    let failed = false;
    first.history.add = (rec, mode) => {
      if (rec.body === body(CATCH_UP_PAGE + 50) && !failed) {
        failed = true;
        throw new Error('disk full');
      }
      return add(rec, mode);
    };
    await first.s.connect({ jid: ME });
    await first.s.drain();
    // Page 1 is stored and shown; page 2 is neither, and the user is told it comes again.
    expect(shown(first.events)).toEqual(all.slice(0, CATCH_UP_PAGE));
    expect(storedBodies(first.history)).toEqual(all.slice(0, CATCH_UP_PAGE));
    expect(first.events.find((e) => e.event === 'warning')?.message).toMatch(/disk full.*read again on the next connection/);
    await first.s.disconnect();
    await first.s.connect({ jid: ME });
    await first.s.drain();
    expect(shown(first.events)).toEqual(all);
    expect(storedBodies(first.history)).toEqual(all);
    expect(first.events.filter((e) => e.event === 'error' && !/disk full/.test(e.message))).toEqual([]);
    // The away summaries count what was shown: page 1, then the rest.
    const summaries = first.events.flatMap((e) => (e.event === 'info' && /while you were away/.test(e.message) ? [e.message] : []));
    expect(summaries).toEqual([`${CATCH_UP_PAGE} messages from ${BOB} while you were away`, `${N - CATCH_UP_PAGE} messages from ${BOB} while you were away`]);
  });

  it('a crash in the middle of a page loses nothing: the next start reads the page again from the old state', async () => {
    const p = await awayProfile();
    const real = OmemoManager.prototype.decrypt;
    const decrypt = vi.spyOn(OmemoManager.prototype, 'decrypt');
    let calls = 0;
    let stuck!: () => void;
    const reachedStuck = new Promise<void>((r) => (stuck = r));
    decrypt.mockImplementation(function (this: OmemoManager, ...args) {
      // The process dies here: in page 2, after 50 of its messages were decrypted.
      if (++calls === CATCH_UP_PAGE + 51) {
        stuck();
        return new Promise(() => undefined);
      }
      return real.apply(this, args);
    });
    const crashed = p.open();
    void crashed.s.connect({ jid: ME });
    await reachedStuck;
    crashed.history.close(); // what a crash does to the open page: SQLite rolls it back
    decrypt.mockRestore();

    const after = p.open();
    expect(storedBodies(after.history)).toEqual(all.slice(0, CATCH_UP_PAGE));
    await after.s.connect({ jid: ME });
    await after.s.drain();
    expect([...shown(crashed.events), ...shown(after.events)]).toEqual(all);
    expect(storedBodies(after.history)).toEqual(all);
    expect(after.events.filter((e) => e.event === 'error' || e.event === 'warning')).toEqual([]);
  });

  it('a crash after a page was committed but before its sessions were written: the journal puts them in at the next start', async () => {
    const p = await awayProfile();
    const store = p.omemo.storeSession.bind(p.omemo);
    let crashed!: () => void;
    const reachedCrash = new Promise<void>((r) => (crashed = r));
    // The process dies while writing page 1's session.
    p.omemo.storeSession = () => {
      crashed();
      return new Promise(() => undefined);
    };
    const first = p.open();
    void first.s.connect({ jid: ME });
    await reachedCrash;
    first.history.close();
    p.omemo.storeSession = store;

    const bobDevice = { jid: BOB, deviceId: p.bob.deviceId };
    const next = p.open();
    const journal = next.history.sessionJournal(ME);
    expect(journal.map((e) => e.addr)).toEqual([bobDevice]);
    expect(await p.omemo.loadSession(bobDevice)).toBeUndefined();
    // Loading the identity (here for a fingerprint, offline) applies the journal, once.
    await next.s.omemoFingerprint(BOB);
    expect(await p.omemo.loadSession(bobDevice)).toEqual(journal[0].after);
    expect(next.history.sessionJournal(ME)).toEqual([]);
    await next.s.connect({ jid: ME });
    await next.s.drain();
    expect([...shown(first.events), ...shown(next.events)]).toEqual(all);
    expect(storedBodies(next.history)).toEqual(all);
  });
});
