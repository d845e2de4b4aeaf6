// Nothing typed is lost (issue 9): a message typed while offline is kept in the profile's outbox,
// shown as pending, encrypted only when it really goes out (an OMEMO chat never falls back to
// plaintext), sent once with the id it was shown with, and kept across a restart.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AccountSession } from '../../src/core/account-session.js';
import type { XchatEvent } from '../../src/core/api.js';
import { MemoryOutbox, OutboxStore } from '../../src/store/outbox.js';
import { WindowManager } from '../../src/ui/windows.js';
import { FakePeer, FakePort, FakeServer, fakeDeps, type Sent } from '../helpers/fake-xmpp.js';
import { createAccountSession } from '../../src/core/index.js';

const ME = 'me@example.org';
const BOB = 'bob@example.org';

async function lostConnection(server: FakeServer, trustMode?: 'manual') {
  const ports: FakePort[] = [];
  const outbox = new MemoryOutbox();
  const events: XchatEvent[] = [];
  const deps = fakeDeps(
    () => {
      ports.push(new FakePort(server));
      return ports[ports.length - 1];
    },
    { outbox, reconnectDelay: () => 60_000 },
  );
  if (trustMode) {
    await deps.accounts.add(ME);
    await deps.accounts.set(ME, 'trust_mode', trustMode);
  }
  const s = new AccountSession(deps);
  s.on((e) => events.push(e));
  await s.connect({ jid: ME });
  await s.drain();
  ports[0].fire('offline', 'network gone');
  return { s, ports, outbox, events };
}

const encrypted = (sent: Sent[]) => sent.filter((m): m is Extract<Sent, { kind: 'encrypted' }> => m.kind === 'encrypted' && !m.keyTransport);

describe('the outbox', () => {
  it('offline: shown as pending, nothing sent; online again: sent once, encrypted, with the same id', async () => {
    const server = new FakeServer();
    const bob = await FakePeer.create(server, BOB);
    const { s, ports, outbox, events } = await lostConnection(server);
    await s.sendMessage(BOB, 'typed on the train');
    const pending = events.find((e) => e.event === 'pending');
    expect(pending).toMatchObject({ to: BOB, body: 'typed on the train' });
    expect(outbox.list(ME)).toHaveLength(1);
    expect(ports[0].sent.filter((m) => m.kind !== 'publish-devices')).toEqual([]);

    expect(await s.reconnectNow()).toBe(true);
    await s.drain();
    const out = encrypted(ports[1].sent);
    expect(out).toHaveLength(1);
    expect(out[0].id).toBe((pending as { id: string }).id);
    expect((await bob.omemo.decrypt(ME, out[0].el)).plaintext).toBe('typed on the train');
    expect(ports[1].sent.some((m) => m.kind === 'plain')).toBe(false);
    expect(events.filter((e) => e.event === 'sent')).toMatchObject([{ id: (pending as { id: string }).id, encryption: 'omemo' }]);
    expect(outbox.list(ME)).toEqual([]);
    // Another reconnect sends nothing again.
    ports[1].fire('offline', 'again');
    await s.reconnectNow();
    await s.drain();
    expect(encrypted(ports[2].sent)).toEqual([]);
  });

  it('a message on its way when the connection drops is kept as pending, and goes out once online', async () => {
    const server = new FakeServer();
    const bob = await FakePeer.create(server, BOB);
    const ports: FakePort[] = [];
    const outbox = new MemoryOutbox();
    const events: XchatEvent[] = [];
    const s = new AccountSession(fakeDeps(() => (ports.push(new FakePort(server)), ports[ports.length - 1]), { outbox, reconnectDelay: () => 60_000 }));
    s.on((e) => events.push(e));
    await s.connect({ jid: ME });
    await s.drain();
    ports[0].sendEncrypted = async () => {
      ports[0].fire('offline', 'connection reset');
      throw new Error('not connected');
    };
    await s.sendMessage(BOB, 'caught by the drop');
    expect(events.filter((e) => e.event === 'error')).toEqual([]);
    expect(events.find((e) => e.event === 'pending')).toMatchObject({ body: 'caught by the drop' });
    await s.reconnectNow();
    await s.drain();
    const out = encrypted(ports[1].sent);
    expect(out).toHaveLength(1);
    expect((await bob.omemo.decrypt(ME, out[0].el)).plaintext).toBe('caught by the drop');
    expect(outbox.list(ME)).toEqual([]);
  });

  it('an OMEMO chat whose devices are not trusted: the message stays in the outbox, never goes out in plaintext', async () => {
    const server = new FakeServer();
    await FakePeer.create(server, BOB);
    const { s, ports, outbox, events } = await lostConnection(server, 'manual');
    await s.sendMessage(BOB, 'secret');
    await s.reconnectNow();
    await s.drain();
    expect(ports[1].sent.filter((m) => m.kind === 'plain' || (m.kind === 'encrypted' && !m.keyTransport))).toEqual([]);
    expect(outbox.list(ME).map((m) => m.body)).toEqual(['secret']);
    expect(events.find((e) => e.event === 'error')).toMatchObject({ message: expect.stringMatching(/still waiting in the outbox: message to bob@example.org NOT sent/) });
  });

  it('the pending line in the window becomes the sent line', () => {
    const wm = new WindowManager({ now: () => 0 });
    wm.handle({ event: 'pending', to: BOB, id: 'p1', body: 'later', queued_at: new Date(0).toISOString() });
    expect(wm.chatWindow(BOB)!.lines.map((l) => l.body)).toEqual(['[pending] later']);
    wm.handle({ event: 'sent', to: BOB, id: 'p1', body: 'later', encryption: 'omemo' });
    expect(wm.chatWindow(BOB)!.lines.map((l) => l.body)).toEqual(['later']);
  });
});

describe('the outbox file', () => {
  it('survives a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xchat-outbox-'));
    const a = await OutboxStore.open(dir, () => undefined);
    await a.add({ id: 'm1', account: ME, to: BOB, body: 'kept', queuedAt: 'now' });
    const b = await OutboxStore.open(dir, () => undefined);
    expect(b.list(ME).map((m) => m.body)).toEqual(['kept']);
    await b.remove('m1');
    expect((await OutboxStore.open(dir, () => undefined)).list(ME)).toEqual([]);
  });

  it('a corrupt file is moved aside and reported, not lost; the outbox starts empty', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xchat-outbox-'));
    writeFileSync(join(dir, 'outbox.json'), '{"version":1,"messages":[{"id":"x"');
    const said: string[] = [];
    const o = await OutboxStore.open(dir, (m) => said.push(m));
    expect(o.list(ME)).toEqual([]);
    expect(said[0]).toMatch(/could not be read .* moved to .*outbox\.json\.unreadable-\d+/);
    expect(readdirSync(dir).some((f) => f.startsWith('outbox.json.unreadable-'))).toBe(true);
  });

  it('opening a profile with a corrupt outbox tells the front end, once it listens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xchat-outbox-'));
    writeFileSync(join(dir, 'outbox.json'), 'not json');
    const s = await createAccountSession({ profileDir: dir });
    const seen: XchatEvent[] = [];
    s.on((e) => seen.push(e));
    await s.close();
    expect(seen).toMatchObject([{ event: 'error', message: expect.stringMatching(/outbox .* could not be read/) }]);
  });
});
