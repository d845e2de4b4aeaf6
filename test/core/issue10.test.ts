// Issue 10's core parts over the fake XMPP floor: PageUp pages local history first and then the
// archive (only what local history lacks), and says where it stopped; /search is one event with
// the hits; the title's trust label is the contact's over all devices; /omemo fingerprint lists
// every own device; a failed /connect ends offline; a chat opened offline is 'pending' when
// nothing is known; own devices are worded as ours.
import { describe, expect, it } from 'vitest';
import { AccountSession } from '../../src/core/account-session.js';
import type { ArchivePage } from '../../src/core/ports.js';
import type { XchatEvent } from '../../src/core/api.js';
import { HistoryStore } from '../../src/store/history.js';
import { contactTrust, unreachableText, notForThisDeviceText } from '../../src/core/trust-ux.js';
import { FakePeer, FakePort, FakeServer, fakeDeps } from '../helpers/fake-xmpp.js';

const ME = 'me@example.org';
const BOB = 'bob@example.org';

const at = (min: number) => new Date(Date.UTC(2024, 0, 1, 10, min)).toISOString();

function session(server: FakeServer, history = HistoryStore.open(':memory:')) {
  const ports: FakePort[] = [];
  const s = new AccountSession(
    fakeDeps(() => {
      ports.push(new FakePort(server));
      return ports[ports.length - 1];
    }, { history }),
  );
  const events: XchatEvent[] = [];
  s.on((e) => events.push(e));
  const bodies = (from = 0) => events.slice(from).flatMap((e) => (e.event === 'message' ? [e.body] : []));
  return { s, events, bodies, history, ports };
}

/** Stored messages with bob at minutes 1..n: "local 1" … "local n". */
function storeLocal(h: HistoryStore, n: number): void {
  for (let i = 1; i <= n; i++) {
    h.add({ account: ME, peer: BOB, direction: 'in', from: `${BOB}/p`, to: ME, body: `local ${i}`, encryption: 'none', stamp: at(i), msgId: `l${i}`, serverId: `s${i}` });
  }
}

describe('PageUp: local history first, then the archive', () => {
  it('pages stored messages before the oldest shown, offline too, and says the archive waits for a connection', async () => {
    const { s, bodies, history } = session(new FakeServer());
    await s.connect({ jid: ME });
    await s.disconnect();
    storeLocal(history, 50);
    const first = await s.fetchOlder(BOB, { before: at(45) });
    expect(bodies()).toEqual(Array.from({ length: 40 }, (_, i) => `local ${i + 5}`));
    expect(first).toEqual({ shown: 40, from: 'local', atStart: false });
    const mark = bodies().length;
    expect(await s.fetchOlder(BOB, { before: at(5) })).toEqual({ shown: 4, from: 'local', atStart: false });
    expect(bodies(0).slice(mark)).toEqual(['local 1', 'local 2', 'local 3', 'local 4']);
    // Nothing older stored, and offline: not "the start", and the archive is not claimed empty.
    const end = await s.fetchOlder(BOB, { before: at(1) });
    expect(end).toMatchObject({ shown: 0, from: 'local', atStart: false });
    expect(end && end.archiveSkipped).toMatch(/offline/);
  });

  it('pages move on even when the window still shows the same oldest line (its own lines, already shown, came back)', async () => {
    const { s, bodies, history } = session(new FakeServer());
    await s.connect({ jid: ME });
    storeLocal(history, 50);
    await s.fetchOlder(BOB, { before: at(45) });
    const mark = bodies().length;
    expect(await s.fetchOlder(BOB, { before: at(45) })).toEqual({ shown: 4, from: 'local', atStart: false });
    expect(bodies().slice(mark)).toEqual(['local 1', 'local 2', 'local 3', 'local 4']);
    // A window cleared (no message shown): paging starts again from the newest.
    expect(await s.fetchOlder(BOB, {})).toMatchObject({ shown: 40, from: 'local' });
  });

  it('online, once local history is exhausted: archive pages before the oldest stored id, only what is not stored, then the start', async () => {
    const server = new FakeServer();
    const bob = await FakePeer.create(server, BOB);
    const { s, events, bodies, history, ports } = session(server);
    storeLocal(history, 2);
    await s.connect({ jid: ME });
    await s.drain();
    const archive = [
      { archiveId: 'x1', from: `${BOB}/p`, to: ME, type: 'chat', id: 'old-1', body: 'archived 1', stamp: at(0) },
      { archiveId: 'x2', from: `${ME}/phone`, to: BOB, type: 'chat', id: 'old-2', body: 'archived 2, mine', stamp: at(0) },
      // An OMEMO key transport (no payload) is nothing to show; an encrypted message not stored cannot be read.
      { archiveId: 'x3', from: `${BOB}/p`, to: ME, type: 'chat', id: 'kt', encrypted: await bob.encryptTo(ME, null), stamp: at(0) },
      { archiveId: 'x4', from: `${BOB}/p`, to: ME, type: 'chat', id: 'enc', encrypted: await bob.encryptTo(ME, 'old secret'), stamp: at(0) },
      { archiveId: 's1', from: `${BOB}/p`, to: ME, type: 'chat', id: 'l1', body: 'local 1', stamp: at(1) },
    ];
    const asked: (string | undefined)[] = [];
    ports[0].mamQuery = async (q: { before?: string; with?: string }): Promise<ArchivePage> => {
      asked.push(q.before);
      const end = archive.findIndex((m) => m.archiveId === q.before);
      const messages = archive.slice(0, end < 0 ? archive.length : end);
      return { messages, complete: true, count: messages.length, ...(messages[0] ? { first: messages[0].archiveId } : {}) };
    };
    const mark = events.length;
    expect(await s.fetchOlder(BOB, { before: at(3) })).toEqual({ shown: 2, from: 'local', atStart: false });
    const page = await s.fetchOlder(BOB, { before: at(1) });
    expect(asked).toEqual(['s1']); // before the oldest stored archive id
    expect(page).toEqual({ shown: 2, from: 'archive', atStart: true, unreadable: 1 });
    expect(bodies(mark)).toEqual(['local 1', 'local 2', 'archived 1', 'archived 2, mine']);
    const mine = events.find((e) => e.event === 'message' && e.body === 'archived 2, mine');
    expect(mine).toMatchObject({ carbon: 'sent', archived: true });
    // What the archive gave is stored now: offline, local history has it.
    await s.disconnect();
    expect(await s.fetchOlder(BOB, {})).toMatchObject({ shown: 4, from: 'local' });
  });
});

describe('/search is one event with its hits', () => {
  it('the hits of the current chat or of all chats, oldest first, each a message', async () => {
    const { s, events, history } = session(new FakeServer());
    await s.connect({ jid: ME });
    storeLocal(history, 3);
    history.add({ account: ME, peer: 'carol@example.org', direction: 'in', from: 'carol@example.org/x', to: ME, body: 'local pizza', encryption: 'none', stamp: at(9) });
    s.openChat(BOB);
    await s.historySearch('local');
    await s.historySearch('pizza', { all: true });
    const searches = events.filter((e): e is Extract<XchatEvent, { event: 'search' }> => e.event === 'search');
    expect(searches.map((e) => [e.text, e.chat, e.hits.map((h) => h.body)])).toEqual([
      ['local', BOB, ['local 1', 'local 2', 'local 3']],
      ['pizza', undefined, ['local pizza']],
    ]);
    expect(events.some((e) => e.event === 'message')).toBe(false); // nothing is poured into the windows
    await s.historyAround(BOB, at(2));
    expect(events.flatMap((e) => (e.event === 'message' ? [e.body] : []))).toEqual(['local 1', 'local 3']);
  });
});

describe('trust, fingerprints and wording', () => {
  it("the contact's trust over all devices: undecided while any waits, verified only when all readers are", () => {
    expect(contactTrust([])).toBeUndefined();
    expect(contactTrust([{ trust: 'verified', active: true }, { trust: 'undecided', active: true }])).toBe('undecided');
    expect(contactTrust([{ trust: 'verified', active: true }, { trust: 'trusted', active: true }])).toBe('trusted');
    expect(contactTrust([{ trust: 'verified', active: true }, { trust: 'untrusted', active: true }, { trust: 'undecided', active: false }])).toBe('verified');
    expect(contactTrust([{ trust: 'untrusted', active: true }])).toBe('untrusted');
  });

  it('contactTrust and /omemo fingerprint over a contact with two devices, and every own device without a JID', async () => {
    const server = new FakeServer();
    const bob1 = await FakePeer.create(server, BOB);
    await FakePeer.create(server, BOB); // a second device of bob's
    await FakePeer.create(server, ME); // another device of ours
    const { s } = session(server);
    await s.connect({ jid: ME });
    await s.drain();
    const bobs = await s.omemoFingerprint(BOB);
    expect(bobs.map((d) => d.trust)).toEqual(['trusted', 'trusted']); // blind trust before verification
    expect(await s.contactTrust(BOB)).toBe('trusted');
    // One device verified: bob is not "verified" while his other device is only trusted.
    await s.omemoTrust(BOB, bobs.find((d) => d.deviceId === bob1.deviceId)!.fingerprint!);
    expect(await s.contactTrust(BOB)).toBe('trusted');
    await s.omemoTrust(BOB, bobs.find((d) => d.deviceId !== bob1.deviceId)!.fingerprint!);
    expect(await s.contactTrust(BOB)).toBe('verified');
    const own = await s.omemoFingerprint();
    expect(own).toHaveLength(2);
    expect(own.filter((d) => d.own)).toHaveLength(1);
    expect(own.every((d) => d.fingerprint && d.trust)).toBe(true);
    expect(await s.omemoFingerprint(ME)).toHaveLength(2);
  });

  it('devices of our own account are ours in the warnings', () => {
    const text = unreachableText(BOB, [{ jid: ME, deviceId: 7, status: 'untrusted', fingerprint: 'ab'.repeat(32) }], ME);
    expect(text).toContain('your own device 7');
    expect(text).toContain('if it is one of your own devices: /omemo trust me@example.org');
    expect(text).not.toContain('theirs');
    expect(notForThisDeviceText(`${ME}/phone`, 7, { deviceId: 1 }, true)).toMatch(/your own device 7.*that client of yours/);
  });
});

describe('connection state and offline chats', () => {
  it('a failed /connect ends offline (the title must not stay on "connecting")', async () => {
    const server = new FakeServer();
    server.loginError = new Error('connect ECONNREFUSED');
    const { s, events } = session(server);
    await expect(s.connect({ jid: ME })).rejects.toThrow(/ECONNREFUSED/);
    const states = events.flatMap((e) => (e.event === 'status' ? [e.status] : []));
    expect(states.at(-1)).toBe('offline');
    expect(states).toContain('connecting');
  });

  it('/msg offline: the stored choice or policy when known, else pending (never a guessed "unencrypted")', async () => {
    const { s, events } = session(new FakeServer());
    s.openChat('carol@example.org');
    await s.drain();
    expect(events.filter((e) => e.event === 'chat').at(-1)).toEqual({ event: 'chat', jid: 'carol@example.org', encryption: 'none', pending: true });
    await s.omemoEnd('dave@example.org');
    s.openChat('dave@example.org');
    await s.drain();
    expect(events.filter((e) => e.event === 'chat').at(-1)).toEqual({ event: 'chat', jid: 'dave@example.org', encryption: 'none' });
    await s.omemoPolicy('always');
    s.openChat('erin@example.org');
    await s.drain();
    expect(events.filter((e) => e.event === 'chat').at(-1)).toEqual({ event: 'chat', jid: 'erin@example.org', encryption: 'omemo' });
  });
});
