// Staying connected (issue 9), over the fake XMPP floor: a lost connection is retried with
// backoff until it is back (rooms rejoined, status restored), a refused password stops the
// retries, /disconnect is final, /connect retries now, and a successful /connect is remembered.
import { describe, expect, it } from 'vitest';
import { AccountSession } from '../../src/core/account-session.js';
import type { XchatEvent } from '../../src/core/api.js';
import { backoffDelay } from '../../src/core/session/reconnect.js';
import { FakePort, FakeServer, fakeDeps } from '../helpers/fake-xmpp.js';

const ME = 'me@example.org';
const ROOM = 'team@rooms.example.org';
const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));

function setup(server: FakeServer, delayMs = 5) {
  const ports: FakePort[] = [];
  const events: XchatEvent[] = [];
  const deps = fakeDeps(
    () => {
      ports.push(new FakePort(server, { rooms: true }));
      return ports[ports.length - 1];
    },
    { reconnectDelay: () => delayMs },
  );
  const s = new AccountSession(deps);
  s.on((e) => events.push(e));
  const statuses = () => events.flatMap((e) => (e.event === 'status' ? [e.status] : []));
  return { s, ports, events, statuses, deps };
}

async function until(pred: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await tick(5);
  }
}

describe('backoff', () => {
  it('starts at about a second, doubles, stays within 60 s, with jitter', () => {
    expect(backoffDelay(0, () => 0.5)).toBe(1000);
    expect(backoffDelay(1, () => 0.5)).toBe(2000);
    expect(backoffDelay(5, () => 0.5)).toBe(32000);
    expect(backoffDelay(6, () => 0.5)).toBe(60000);
    expect(backoffDelay(40, () => 0.5)).toBe(60000);
    expect(backoffDelay(0, () => 0)).toBe(800);
    expect(backoffDelay(0, () => 1)).toBe(1200);
  });
});

describe('reconnecting', () => {
  it('after a lost connection: says when it retries, comes back, rejoins rooms and restores the status', async () => {
    const server = new FakeServer();
    const { s, ports, events, statuses } = setup(server);
    await s.connect({ jid: ME });
    await s.muc.join(ROOM, { nick: 'me' });
    await s.setStatus('away', 'lunch');
    await s.drain();
    ports[0].fire('offline', 'connection reset');
    await until(() => ports.length === 2 && s.isConnected());
    await s.drain();
    await until(() => ports[1].muc!.joins.includes(ROOM));
    expect(statuses()).toEqual(['connecting', 'online', 'offline', 'reconnecting', 'connecting', 'online']);
    const reconnecting = events.find((e) => e.event === 'status' && e.status === 'reconnecting');
    expect(reconnecting).toMatchObject({ jid: ME, retry_in: 1 });
    expect(ports[1].sent).toContainEqual({ kind: 'presence', show: 'away', status: 'lunch' });
  });

  it('keeps trying while the server is down, then stops retrying once back', async () => {
    const server = new FakeServer();
    const { s, ports } = setup(server);
    await s.connect({ jid: ME });
    server.loginError = Object.assign(new Error('connection refused'), { condition: 'network' });
    ports[0].fire('offline', 'server went away');
    await until(() => server.logins.length >= 4);
    expect(s.isConnected()).toBe(false);
    server.loginError = undefined;
    await until(() => s.isConnected());
    const logins = server.logins.length;
    await tick(50);
    expect(server.logins.length).toBe(logins);
  });

  it('a refused password stops the retries and says why', async () => {
    const server = new FakeServer();
    const { s, ports, events } = setup(server);
    await s.connect({ jid: ME });
    server.loginError = Object.assign(new Error('authentication failed: not-authorized'), { condition: 'auth' });
    ports[0].fire('offline', 'server restarted');
    await until(() => events.some((e) => e.event === 'error' && e.reason === 'auth'));
    const logins = server.logins.length;
    await tick(50);
    expect(server.logins.length).toBe(logins);
    expect(events.find((e) => e.event === 'error' && e.reason === 'auth')).toMatchObject({ message: expect.stringMatching(/reconnecting to me@example.org stopped: authentication failed/) });
  });

  it('/disconnect is final: no retry', async () => {
    const server = new FakeServer();
    const { s, ports } = setup(server);
    await s.connect({ jid: ME });
    await s.disconnect();
    ports[0].fire('offline', 'late event of the closed connection');
    await tick(50);
    expect(server.logins).toEqual([ME]);
    expect(s.isConnected()).toBe(false);
  });

  it('/connect without a JID retries now, not after the backoff', async () => {
    const server = new FakeServer();
    const { s, ports } = setup(server, 60_000);
    await s.connect({ jid: ME });
    ports[0].fire('offline', 'lost');
    expect(s.isConnected()).toBe(false);
    expect(await s.reconnectNow()).toBe(true);
    expect(s.isConnected()).toBe(true);
    expect(server.logins).toEqual([ME, ME]);
  });

  it('/connect without anything to retry says so (false)', async () => {
    const { s } = setup(new FakeServer());
    expect(await s.reconnectNow()).toBe(false);
  });
});

describe('remembered accounts', () => {
  it('a successful /connect saves the account with the server, port and tls given', async () => {
    const server = new FakeServer();
    const { s, deps } = setup(server);
    expect(await deps.accounts.list()).toEqual([]);
    await s.connect({ jid: 'Me@Example.org', server: '127.0.0.1', port: 5299, tls: 'allow' });
    expect(await deps.accounts.list()).toEqual([{ jid: ME, server: '127.0.0.1', port: 5299, tls: 'allow' }]);
  });

  it('a failed /connect saves nothing', async () => {
    const server = new FakeServer();
    server.loginError = Object.assign(new Error('authentication failed'), { condition: 'auth' });
    const { s, deps } = setup(server);
    await expect(s.connect({ jid: ME, server: 'x' })).rejects.toThrow(/authentication failed/);
    expect(await deps.accounts.list()).toEqual([]);
  });
});
