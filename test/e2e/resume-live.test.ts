// Live, XEP-0198: the network between xchat and Prosody breaks (a relay cuts every connection, no
// goodbye) and stays down while a contact writes, 1:1 and in a room. xchat reconnects and resumes
// the session the server kept: the messages written meanwhile arrive once, from the resumed
// stream (nothing re-fetched from the archive, no room rejoined), the room's occupants are still
// known, and the conversation goes on both ways.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { startProsody, type Lab } from '../lab/prosody.js';
import { AccountSession } from '../../src/core/account-session.js';
import { createXmppPort } from '../../src/core/xmpp-port.js';
import type { XchatEvent } from '../../src/core/api.js';
import { fakeDeps } from '../helpers/fake-xmpp.js';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.js';
import { MemoryOutbox } from '../../src/store/outbox.js';

const canRun = existsSync('/usr/bin/prosody');
if (!canRun && process.env.CI === 'true') throw new Error('CI needs prosody (scripts/install-test-deps)');

async function until(pred: () => boolean, ms: number, what: string, events: XchatEvent[]): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}; last events ${JSON.stringify(events.slice(-8))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!canRun)('stream resumption after a network break (live)', () => {
  let lab: Lab;
  let relay: TcpRelay;
  const sessions: AccountSession[] = [];

  beforeAll(async () => {
    lab = await startProsody({ name: 'resume' });
    await lab.register('alice', 'alice-pw');
    await lab.register('bob', 'bob-pw');
    relay = await startTcpRelay(lab.host, lab.c2sPort);
  }, 60_000);

  afterEach(async () => {
    relay?.unblock();
    for (const s of sessions.splice(0)) await s.disconnect().catch(() => undefined);
  });

  afterAll(async () => {
    await relay?.close();
    await lab?.stop();
  });

  function session(password: string) {
    const ca = readFileSync(lab.caFile, 'utf8');
    const events: XchatEvent[] = [];
    const s = new AccountSession(fakeDeps(() => createXmppPort({ ca }), { env: { XCHAT_PASSWORD: password }, reconnectDelay: () => 300, outbox: new MemoryOutbox() }));
    s.on((e) => events.push(e));
    sessions.push(s);
    return { s, events };
  }
  const onlines = (events: XchatEvent[]) => events.filter((e): e is Extract<XchatEvent, { event: 'status' }> => e.event === 'status' && e.status === 'online');
  const bodies = (events: XchatEvent[], body: string) => events.filter((e) => e.event === 'message' && e.body === body);

  it('resumes: what was written during the break arrives once, the room is as it was', async () => {
    const alice = session('alice-pw');
    const bob = session('bob-pw');
    await alice.s.connect({ jid: 'alice@localhost', server: '127.0.0.1', port: relay.port });
    await bob.s.connect({ jid: 'bob@localhost', server: lab.host, port: lab.c2sPort });
    await alice.s.omemoEnd('bob@localhost');
    await bob.s.omemoEnd('alice@localhost');
    const room = 'resume@muc.localhost';
    await alice.s.muc!.join(room, { nick: 'alice' });
    await bob.s.muc!.join(room, { nick: 'bob' });
    await until(() => alice.s.muc!.occupants(room).some((o) => o.nick === 'bob'), 20_000, 'bob in the room', alice.events);
    await bob.s.sendMessage('alice@localhost', 'before the break');
    await until(() => bodies(alice.events, 'before the break').length === 1, 20_000, 'first message', alice.events);

    relay.block();
    relay.cut();
    await until(() => alice.events.some((e) => e.event === 'status' && e.status === 'reconnecting'), 20_000, 'break noticed', alice.events);
    await bob.s.sendMessage('alice@localhost', 'written during the break');
    await bob.s.sendMessage(room, 'said in the room during the break');
    await new Promise((r) => setTimeout(r, 1000)); // a few refused reconnect attempts
    const acceptedBefore = relay.accepted;
    relay.unblock();

    await until(() => onlines(alice.events).length === 2, 30_000, 'alice back', alice.events);
    expect(onlines(alice.events)[1].resumed).toBe(true);
    expect(relay.accepted).toBe(acceptedBefore + 1);
    await until(() => bodies(alice.events, 'written during the break').length > 0, 20_000, '1:1 message from the break', alice.events);
    await until(() => bodies(alice.events, 'said in the room during the break').length > 0, 20_000, 'room message from the break', alice.events);
    // The room was not joined again (no second 'joined'), and its occupants are still known.
    expect(alice.events.filter((e) => e.event === 'room' && e.room === room && e.status === 'joined')).toHaveLength(1);
    expect(alice.s.muc!.occupants(room).map((o) => o.nick)).toEqual(expect.arrayContaining(['alice', 'bob']));

    await alice.s.sendMessage(room, 'alice after the break');
    await until(() => bodies(bob.events, 'alice after the break').length > 0, 20_000, 'room answer', bob.events);
    await alice.s.sendMessage('bob@localhost', 'answer after the break');
    await until(() => bodies(bob.events, 'answer after the break').length > 0, 20_000, '1:1 answer', bob.events);
    await new Promise((r) => setTimeout(r, 1000));
    expect(bodies(alice.events, 'written during the break')).toHaveLength(1);
    expect(bodies(alice.events, 'said in the room during the break')).toHaveLength(1);
    expect(bodies(alice.events, 'before the break')).toHaveLength(1);
    expect(bodies(bob.events, 'answer after the break')).toHaveLength(1);
  }, 120_000);

  it('a resume the server refuses (it restarted meanwhile) becomes a new session: archive catch-up, rooms rejoined', async () => {
    const alice = session('alice-pw');
    const bob = session('bob-pw');
    await alice.s.connect({ jid: 'alice@localhost', server: '127.0.0.1', port: relay.port });
    await bob.s.connect({ jid: 'bob@localhost', server: lab.host, port: lab.c2sPort });
    await alice.s.omemoEnd('bob@localhost');
    const room = 'fresh@muc.localhost';
    await alice.s.muc!.join(room, { nick: 'alice' });
    await bob.s.muc!.join(room, { nick: 'bob' });
    relay.block();
    relay.cut();
    await until(() => alice.events.some((e) => e.event === 'status' && e.status === 'reconnecting'), 20_000, 'break noticed', alice.events);
    // Typed in the room while offline: pending, then sent once the room is joined again.
    await alice.s.sendMessage(room, 'typed in the room while offline');
    const pending = alice.events.find((e) => e.event === 'pending' && e.to === room);
    expect(pending).toBeDefined();
    await lab.restart(0);
    relay.unblock();
    await until(() => onlines(alice.events).length === 2, 60_000, 'alice back', alice.events);
    expect(onlines(alice.events)[1].resumed).toBeUndefined();
    await until(() => onlines(bob.events).length === 2, 60_000, 'bob back', bob.events);
    await bob.s.sendMessage('alice@localhost', 'after the restart');
    await until(() => bodies(alice.events, 'after the restart').length === 1, 30_000, 'message after the restart', alice.events);
    // bob rejoins the restarted server's room (its in-memory occupants are gone) and gets alice's line.
    await bob.s.muc!.join(room, { nick: 'bob' }).catch(() => undefined);
    await until(() => alice.events.some((e) => e.event === 'sent' && e.to === room && e.id === (pending as { id: string }).id), 30_000, 'room outbox sent', alice.events);
    expect(alice.events.filter((e) => e.event === 'room' && e.room === room && e.status === 'joined').length).toBe(2);
  }, 120_000);
});
