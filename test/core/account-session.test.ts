// The account session, room core and catch-up over the fake XMPP floor (no Prosody): what goes out
// and what is shown, for encrypted chats, refusals, rooms and archive order.
import { describe, expect, it } from 'vitest';
import { AccountSession } from '../../src/core/account-session.js';
import type { XchatEvent } from '../../src/core/api.js';
import { decideEncryption } from '../../src/core/session/chats.js';
import { HistoryStore } from '../../src/store/history.js';
import { FakePeer, FakePort, FakeServer, fakeDeps, type Sent } from '../helpers/fake-xmpp.js';
import { WindowManager } from '../../src/ui/windows.js';

const ME = 'me@example.org';
const BOB = 'bob@example.org';
const ROOM = 'team@rooms.example.org';

async function online(server: FakeServer, opts: { rooms?: boolean; history?: boolean; trustMode?: 'manual' | 'btbv' } = {}) {
  const ports: FakePort[] = [];
  const events: XchatEvent[] = [];
  const deps = fakeDeps(
    () => {
      ports.push(new FakePort(server, { rooms: opts.rooms ?? false }));
      return ports[ports.length - 1];
    },
    opts.history ? { history: HistoryStore.open(':memory:') } : {},
  );
  if (opts.trustMode) {
    await deps.accounts.add(ME);
    await deps.accounts.set(ME, 'trust_mode', opts.trustMode);
  }
  const s = new AccountSession(deps);
  s.on((e) => events.push(e));
  await s.connect({ jid: ME });
  await s.drain();
  const port = ports[ports.length - 1];
  const shown = () => events.filter((e): e is Extract<XchatEvent, { event: 'message' }> => e.event === 'message').map((e) => e.body);
  return { s, port, events, shown };
}

const encryptedTo = (sent: Sent[], to: string) => sent.filter((m): m is Extract<Sent, { kind: 'encrypted' }> => m.kind === 'encrypted' && !m.keyTransport && m.to === to);

describe('encryption decision (pure)', () => {
  it('follows the chosen mode, then the policy, then the published devices; forbidden refuses', () => {
    expect(decideEncryption({ chosen: 'none', policy: 'always' })).toBe('none');
    expect(decideEncryption({ policy: 'always' })).toBe('omemo');
    expect(decideEncryption({ policy: 'manual', devices: { count: 3 } })).toBe('none');
    expect(decideEncryption({ policy: 'automatic', devices: { count: 2 } })).toBe('omemo');
    expect(decideEncryption({ policy: 'automatic', devices: { count: 0 } })).toBe('none');
    expect(decideEncryption({ policy: 'automatic', devices: { error: 'forbidden' } })).toBe('refuse');
    expect(decideEncryption({ policy: 'automatic', devices: { error: 'other' } })).toBe('none');
  });
});

describe('1:1 chats', () => {
  it('a contact with devices gets OMEMO: the peer reads it, its answer is shown as trusted', async () => {
    const server = new FakeServer();
    const bob = await FakePeer.create(server, BOB);
    const { s, port, shown } = await online(server);
    await s.sendMessage(BOB, 'hello bob');
    const out = encryptedTo(port.sent, BOB);
    expect(out).toHaveLength(1);
    expect(port.sent.some((m) => m.kind === 'plain')).toBe(false);
    expect((await bob.omemo.decrypt(ME, out[0].el)).plaintext).toBe('hello bob');
    port.deliver({ from: `${BOB}/phone`, id: 'b1', encrypted: await bob.encryptTo(ME, 'hello me') });
    await s.drain();
    expect(shown()).toEqual(['hello me']);
  });

  it('manual trust: nothing goes out until the device is trusted, then it does', async () => {
    const server = new FakeServer();
    await FakePeer.create(server, BOB);
    const { s, port } = await online(server, { trustMode: 'manual' });
    await expect(s.sendMessage(BOB, 'secret')).rejects.toThrow(/NOT sent: no trusted device of bob@example.org/);
    expect(encryptedTo(port.sent, BOB)).toHaveLength(0);
    expect(port.sent.some((m) => m.kind === 'plain')).toBe(false);
    const [device] = await s.omemoFingerprint(BOB);
    await s.omemoTrust(BOB, device.fingerprint!);
    await s.sendMessage(BOB, 'secret');
    expect(encryptedTo(port.sent, BOB)).toHaveLength(1);
  });

  it('a contact without devices gets plaintext under the automatic policy', async () => {
    const server = new FakeServer();
    const { s, port } = await online(server);
    await s.sendMessage(BOB, 'plain hello');
    expect(port.sent.filter((m) => m.kind === 'plain').map((m) => (m as { body: string }).body)).toEqual(['plain hello']);
  });
});

describe('rooms', () => {
  async function inRoom(server: FakeServer) {
    const o = await online(server, { rooms: true });
    const muc = o.port.muc!;
    muc.members.set(ROOM, [{ jid: BOB }]);
    await o.s.muc.join(ROOM, { nick: 'me' });
    muc.firePresence({ room: ROOM, nick: 'bob', type: 'available', jid: `${BOB}/x`, affiliation: 'member', role: 'participant', codes: [], self: false });
    return { ...o, muc };
  }

  it('an OMEMO room message is encrypted for the members and read by them; theirs is shown with the real JID', async () => {
    const server = new FakeServer();
    const bob = await FakePeer.create(server, BOB);
    const { s, port, muc, events } = await inRoom(server);
    await s.omemoStart(ROOM);
    await s.sendMessage(ROOM, 'hi room');
    const out = port.sent.filter((m): m is Extract<Sent, { kind: 'room' }> => m.kind === 'room');
    expect(out).toHaveLength(1);
    expect(out[0].body).toBeUndefined();
    expect((await bob.omemo.decrypt(ME, out[0].el!)).plaintext).toBe('hi room');
    muc.fireMessage({ room: ROOM, nick: 'bob', id: 'r1', codes: [], encrypted: await bob.encryptTo(ME, 'hi me') });
    await s.drain();
    const got = events.filter((e) => e.event === 'message');
    expect(got).toMatchObject([{ body: 'hi me', real_jid: BOB, encryption: 'omemo', nick: 'bob' }]);
  });

  it('a sender the room did not name is not decrypted, and the user is told why', async () => {
    const server = new FakeServer();
    const eve = await FakePeer.create(server, 'eve@example.org');
    const { s, muc, events } = await inRoom(server);
    // 'ghost' never sent presence with a real JID; the message claims nothing the room confirmed.
    muc.fireMessage({ room: ROOM, nick: 'ghost', id: 'g1', codes: [], encrypted: await eve.encryptTo(ME, 'sneaky') });
    await s.drain();
    expect(events.filter((e) => e.event === 'message')).toEqual([]);
    expect(events.find((e) => e.event === 'error')).toMatchObject({ reason: 'unknown-sender' });
  });

  it('typing in a room sends no 1:1 chat state to the room (it would bounce); in a chat it does', async () => {
    const server = new FakeServer();
    const { s, port } = await inRoom(server);
    s.typing(ROOM, 'composing');
    s.typing(BOB, 'composing');
    await s.drain();
    expect(port.sent.filter((m) => m.kind === 'signal').map((m) => (m as { to: string }).to)).toEqual([BOB]);
  });

  it('OMEMO is refused in a room that is not members-only', async () => {
    const server = new FakeServer();
    const { s, muc, port } = await inRoom(server);
    muc.features.splice(muc.features.indexOf('muc_membersonly'), 1);
    await expect(s.omemoStart(ROOM)).rejects.toThrow(/OMEMO refused in team@rooms.example.org: the room is not members-only/);
    await s.sendMessage(ROOM, 'plain in room');
    expect(port.sent.filter((m) => m.kind === 'room').map((m) => (m as { body?: string }).body)).toEqual(['plain in room']);
  });
});

describe('archive catch-up', () => {
  it('archived messages come first, then the live ones that arrived meanwhile, each once', async () => {
    const server = new FakeServer();
    const bob = await FakePeer.create(server, BOB);
    // Each connect takes the port prepared for it, else a plain one.
    const prepared: FakePort[] = [];
    const s = new AccountSession(fakeDeps(() => prepared.shift() ?? new FakePort(server), { history: HistoryStore.open(':memory:') }));
    const events: XchatEvent[] = [];
    s.on((e) => events.push(e));
    await s.connect({ jid: ME }); // a new profile: the archive position starts here
    await s.drain();
    await s.disconnect();
    server.archive.push(
      { archiveId: 'a1', from: `${BOB}/p`, to: ME, type: 'chat', id: 'm1', encrypted: await bob.encryptTo(ME, 'while away 1') },
      { archiveId: 'a2', from: `${BOB}/p`, to: ME, type: 'chat', id: 'm2', body: 'while away 2' },
    );
    const live = await bob.encryptTo(ME, 'live');
    // The next connection: a live message arrives while the archive is being read; it waits.
    const next = new FakePort(server);
    const query = next.mamQuery.bind(next);
    let delivered = false;
    next.mamQuery = async (q) => {
      if (!delivered) {
        delivered = true;
        next.deliver({ from: `${BOB}/p`, id: 'm3', encrypted: live });
      }
      return query(q);
    };
    prepared.push(next);
    await s.connect({ jid: ME });
    await s.drain();
    const bodies = events.filter((e): e is Extract<XchatEvent, { event: 'message' }> => e.event === 'message').map((e) => e.body);
    expect(bodies).toEqual(['while away 1', 'while away 2', 'live']);
    expect(events.some((e) => e.event === 'info' && e.message === '3 messages from bob@example.org while you were away')).toBe(true);
  });

  it('our own messages from another device, read from the archive, are filed with the contact as sent by us', async () => {
    const server = new FakeServer();
    const prepared: FakePort[] = [];
    const s = new AccountSession(fakeDeps(() => prepared.shift() ?? new FakePort(server), { history: HistoryStore.open(':memory:') }));
    const events: XchatEvent[] = [];
    s.on((e) => events.push(e));
    await s.connect({ jid: ME });
    await s.drain();
    await s.disconnect();
    server.archive.push({ archiveId: 'o1', from: `${ME}/phone`, to: BOB, type: 'chat', id: 'mine-1', body: 'sent from my phone' });
    await s.connect({ jid: ME });
    await s.drain();
    const mine = events.find((e) => e.event === 'message' && e.body === 'sent from my phone');
    expect(mine).toMatchObject({ carbon: 'sent', to: BOB, archived: true });
    const wm = new WindowManager({ now: () => 0 });
    wm.handle(mine!);
    expect(wm.chatWindow(BOB)?.lines.map((l) => [l.from, l.body])).toEqual([['me', 'sent from my phone']]);
    expect(wm.chatWindow(ME)).toBeUndefined();
  });
});

