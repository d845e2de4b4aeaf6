// The page hold of catch-up (src/omemo/session-hold.ts): session writes stay in memory until the
// page is written, and a journal replay never rolls a session back past a later step.
import { describe, expect, it } from 'vitest';
import { SessionHold } from '../../src/omemo/session-hold.js';
import { MemoryOmemoStore } from '../../src/omemo/memory-store.js';

const A = { jid: 'bob@example.org', deviceId: 7 };
const B = { jid: 'carol@example.org', deviceId: 9 };
const rec = (n: number) => new Uint8Array([n, n, n]);

describe('session hold', () => {
  it('keeps writes in memory while holding, reads them back, and writes each session once on flush', async () => {
    const inner = new MemoryOmemoStore();
    await inner.storeSession(A, rec(1));
    const hold = new SessionHold(inner);
    hold.hold();
    for (const n of [2, 3, 4]) await hold.storeSession(A, rec(n));
    await hold.storeSession(B, rec(5));
    expect(await hold.loadSession(A)).toEqual(rec(4));
    expect(await inner.loadSession(A)).toEqual(rec(1));
    expect(await hold.listSessionDevices(B.jid)).toEqual([9]);
    expect(hold.journal().map((e) => [e.addr, e.before !== undefined, e.after])).toEqual([
      [A, true, rec(4)],
      [B, false, rec(5)],
    ]);
    const writes = inner.sessionWrites;
    await hold.flush();
    expect(inner.sessionWrites - writes).toBe(2);
    expect(await inner.loadSession(A)).toEqual(rec(4));
    await hold.storeSession(A, rec(6)); // no longer holding: straight through
    expect(await inner.loadSession(A)).toEqual(rec(6));
  });

  it('drop() forgets the page: reads see the stored records again', async () => {
    const inner = new MemoryOmemoStore();
    await inner.storeSession(A, rec(1));
    const hold = new SessionHold(inner);
    hold.hold();
    await hold.storeSession(A, rec(2));
    await hold.storeSession(B, rec(3));
    hold.drop();
    expect(await hold.loadSession(A)).toEqual(rec(1));
    expect(await hold.loadSession(B)).toBeUndefined();
  });

  it('a journal entry is applied only over the record it replaces, never over a later one', async () => {
    const inner = new MemoryOmemoStore();
    await inner.storeSession(A, rec(1));
    const hold = new SessionHold(inner);
    hold.hold();
    await hold.storeSession(A, rec(2));
    await hold.storeSession(B, rec(3));
    const journal = hold.journal();
    hold.drop(); // the crash: the page was committed with its journal, the sessions never written
    expect(await hold.replayJournal(journal)).toBe(2);
    expect(await inner.loadSession(A)).toEqual(rec(2));
    expect(await inner.loadSession(B)).toEqual(rec(3));
    // Again (the journal was not cleared): nothing changes.
    expect(await hold.replayJournal(journal)).toBe(0);
    // The session moved on (a message sent since): the journal must not take it back.
    await inner.storeSession(A, rec(8));
    await inner.removeSession(B);
    await inner.storeSession(B, rec(9));
    expect(await hold.replayJournal(journal)).toBe(0);
    expect(await inner.loadSession(A)).toEqual(rec(8));
    expect(await inner.loadSession(B)).toEqual(rec(9));
  });
});
