// Two defects of the account session, over the fake XMPP floor (no Prosody):
// - a failed fetch of our own device list never leads to publishing a list derived from it;
// - every PreKey message that starts a session is answered with an empty message for exactly the
//   device that sent it, in 1:1 chats, in rooms and after archive catch-up.
import { describe, expect, it } from 'vitest';
import { AccountSession } from '../../src/core/account-session.js';
import type { XchatEvent } from '../../src/core/api.js';
import { HistoryStore } from '../../src/store/history.js';
import { FakePeer, FakePort, FakeServer, fakeDeps, type Sent } from '../helpers/fake-xmpp.js';

const ME = 'me@example.org';
const BOB = 'bob@example.org';
const ROOM = 'team@rooms.example.org';

/** A session over the fake server; `port` is the connection's port (a new one per connect). */
async function session(server: FakeServer, opts: { rooms?: boolean; history?: boolean } = {}) {
  const ports: FakePort[] = [];
  const newPort = () => {
    ports.push(new FakePort(server, { rooms: opts.rooms ?? false }));
    return ports[ports.length - 1];
  };
  const events: XchatEvent[] = [];
  const history = opts.history ? HistoryStore.open(':memory:') : undefined;
  const s = new AccountSession(fakeDeps(newPort, history ? { history } : {}));
  s.on((e) => events.push(e));
  return {
    get port(): FakePort {
      const p = ports.at(-1);
      if (!p) throw new Error('not connected yet');
      return p;
    },
    s,
    events,
  };
}

/** Empty (key-transport) messages sent to `jid`, as the recipient device ids of each. */
function keyTransports(sent: Sent[], jid: string): number[][] {
  return sent.flatMap((m) => (m.kind === 'encrypted' && m.keyTransport && m.to === jid ? [m.el.keys.map((k) => k.rid).sort()] : []));
}

describe('own device list after a failed fetch', () => {
  it('is never republished as "just this device"; the user is warned; a later notification restores this device', async () => {
    const server = new FakeServer();
    server.deviceLists.set(ME, [1111, 2222]); // the user's phone and laptop
    server.deviceListErrors.set(ME, Object.assign(new Error('remote-server-timeout'), { condition: 'remote-server-timeout' }));
    const t = await session(server);
    const { s, events } = t;
    await s.connect({ jid: ME });
    await s.drain();
    const port = t.port;
    expect(port.sent.filter((m) => m.kind === 'publish-devices')).toEqual([]);
    expect(server.deviceLists.get(ME)).toEqual([1111, 2222]);
    const warning = events.find((e) => e.event === 'warning' && e.reason === 'own-device-list-unread');
    expect(warning).toBeDefined();
    // The bundle still went out, so the device can be added once the list is known.
    const own = (await s.omemoFingerprint())[0].deviceId;
    expect(server.bundles.has(server.bundleKey(ME, own))).toBe(true);
    // The server later tells us the list (PEP): this device joins the others, none is dropped.
    port.fire('devicelist', { jid: ME, ids: [1111, 2222] });
    await s.drain();
    expect(server.deviceLists.get(ME)).toEqual([1111, 2222, own]);
  });

  it('an account with no list yet (item-not-found: an empty list) publishes this device', async () => {
    const server = new FakeServer();
    const t = await session(server);
    await t.s.connect({ jid: ME });
    await t.s.drain();
    const { port, s } = t;
    const own = (await s.omemoFingerprint())[0].deviceId;
    expect(port.sent.filter((m) => m.kind === 'publish-devices')).toEqual([{ kind: 'publish-devices', ids: [own] }]);
  });
});

describe('session completion answers exactly the sending device', () => {
  it('1:1: every new device of a contact gets its own empty message, listed yet or not', async () => {
    const server = new FakeServer();
    const t = await session(server);
    await t.s.connect({ jid: ME });
    await t.s.drain();
    const { port, s, events } = t;
    const phone = await FakePeer.create(server, BOB);
    port.deliver({ from: `${BOB}/phone`, id: 'p1', encrypted: await phone.encryptTo(ME, 'from the phone') });
    await s.drain();
    // A second device whose list entry has not reached us (nor the server) yet.
    const laptop = await FakePeer.create(server, BOB, { listed: false });
    port.deliver({ from: `${BOB}/laptop`, id: 'l1', encrypted: await laptop.encryptTo(ME, 'from the laptop') });
    await s.drain();
    expect(events.filter((e) => e.event === 'message').map((e) => (e as { body: string }).body)).toEqual(['from the phone', 'from the laptop']);
    expect(keyTransports(port.sent, BOB)).toEqual([[phone.deviceId], [laptop.deviceId]]);
    // The answers complete the sessions: the contact's next messages are no PreKey messages.
    for (const [peer, m] of [[phone, port.sent[port.sent.length - 2]], [laptop, port.sent[port.sent.length - 1]]] as const) {
      if (m.kind !== 'encrypted') throw new Error('expected an encrypted message');
      await peer.omemo.decrypt(ME, m.el);
      expect((await peer.encryptTo(ME, 'again')).keys.every((k) => !k.prekey)).toBe(true);
    }
  });

  it('rooms: a member\'s new device gets the empty message, 1:1, for that device', async () => {
    const server = new FakeServer();
    const t = await session(server, { rooms: true });
    await t.s.connect({ jid: ME });
    await t.s.drain();
    const { port, s, events } = t;
    const muc = port.muc!;
    muc.members.set(ROOM, [{ jid: BOB }]);
    await s.muc.join(ROOM, { nick: 'me' });
    muc.firePresence({ room: ROOM, nick: 'bob', type: 'available', jid: `${BOB}/x`, affiliation: 'member', role: 'participant', codes: [], self: false });
    const phone = await FakePeer.create(server, BOB);
    muc.fireMessage({ room: ROOM, nick: 'bob', id: 'r1', codes: [], encrypted: await phone.encryptTo(ME, 'room hello') });
    await s.drain();
    const tablet = await FakePeer.create(server, BOB, { listed: false });
    muc.fireMessage({ room: ROOM, nick: 'bob', id: 'r2', codes: [], encrypted: await tablet.encryptTo(ME, 'room hello again') });
    await s.drain();
    expect(events.filter((e) => e.event === 'message').map((e) => (e as { body: string }).body)).toEqual(['room hello', 'room hello again']);
    expect(keyTransports(port.sent, BOB)).toEqual([[phone.deviceId], [tablet.deviceId]]);
  });

  it('archive catch-up: one empty message per contact at the end, for exactly the devices that started sessions', async () => {
    const server = new FakeServer();
    const t = await session(server, { history: true });
    await t.s.connect({ jid: ME });
    await t.s.drain();
    await t.s.disconnect();
    // While we were away: two new devices of bob wrote (neither in the list we could cache).
    const a = await FakePeer.create(server, BOB, { listed: false });
    const b = await FakePeer.create(server, BOB, { listed: false });
    server.archive.push(
      { archiveId: 'a1', from: `${BOB}/a`, to: ME, type: 'chat', id: 'm1', encrypted: await a.encryptTo(ME, 'away one') },
      { archiveId: 'a2', from: `${BOB}/b`, to: ME, type: 'chat', id: 'm2', encrypted: await b.encryptTo(ME, 'away two') },
    );
    await t.s.connect({ jid: ME });
    await t.s.drain();
    expect(t.events.filter((e) => e.event === 'message').map((e) => (e as { body: string }).body)).toEqual(['away one', 'away two']);
    expect(keyTransports(t.port.sent, BOB)).toEqual([[a.deviceId, b.deviceId].sort()]);
  });
});
