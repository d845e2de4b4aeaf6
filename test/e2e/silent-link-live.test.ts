// Live: a link that goes silent (the server SIGSTOPped, as after a suspend or a dead NAT entry) is
// noticed by an unanswered ping, given up, and replaced once the server answers again; the
// conversation goes on and nothing is shown twice. Short keepalive times here; the defaults
// (ping after 60 s quiet, 20 s to answer) find a dead link within 90 s.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { startProsody, type Lab } from '../lab/prosody.js';
import { AccountSession } from '../../src/core/account-session.js';
import { createXmppPort } from '../../src/core/xmpp-port.js';
import type { XchatEvent } from '../../src/core/api.js';
import { fakeDeps } from '../helpers/fake-xmpp.js';
import { HistoryStore } from '../../src/store/history.js';
import { KEEPALIVE_IDLE_MS, KEEPALIVE_TIMEOUT_MS } from '../../src/xmpp/keepalive.js';

const canRun = existsSync('/usr/bin/prosody');
if (!canRun && process.env.CI === 'true') throw new Error('CI needs prosody (scripts/install-test-deps)');

async function until(pred: () => boolean, ms: number, what: string, events: XchatEvent[]): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}; last events ${JSON.stringify(events.slice(-6))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!canRun)('a silent link (live)', () => {
  let lab: Lab;
  const sessions: AccountSession[] = [];

  beforeAll(async () => {
    lab = await startProsody({ name: 'silent-link' });
    await lab.register('alice', 'alice-pw');
    await lab.register('bob', 'bob-pw');
  }, 60_000);

  // Each test starts with only its own sessions on the server (a leftover resource would take
  // messages meant for the next test's session).
  afterEach(async () => {
    lab?.resume();
    for (const s of sessions.splice(0)) await s.disconnect().catch(() => undefined);
  });

  afterAll(async () => {
    lab?.resume();
    for (const s of sessions) await s.disconnect().catch(() => undefined);
    await lab?.stop();
  });

  function session(password: string, keepalive?: { idleMs: number; timeoutMs: number }, history = false) {
    const ca = readFileSync(lab.caFile, 'utf8');
    const events: XchatEvent[] = [];
    const s = new AccountSession(
      fakeDeps(() => createXmppPort({ ca, ...(keepalive ? { keepalive } : {}) }), {
        env: { XCHAT_PASSWORD: password },
        reconnectDelay: () => 300,
        ...(history ? { history: HistoryStore.open(':memory:') } : {}),
      }),
    );
    s.on((e) => events.push(e));
    sessions.push(s);
    return { s, events };
  }

  it('the defaults find a dead link within 90 s', () => {
    expect(KEEPALIVE_IDLE_MS + KEEPALIVE_TIMEOUT_MS + KEEPALIVE_IDLE_MS / 4).toBeLessThanOrEqual(90_000);
  });

  it('is detected by an unanswered ping, replaced when the server is back; messages flow again, once', async () => {
    const alice = session('alice-pw', { idleMs: 800, timeoutMs: 800 });
    const bob = session('bob-pw');
    const target = { server: lab.host, port: lab.c2sPort, tls: 'force' as const };
    await alice.s.connect({ jid: 'alice@localhost', ...target, password: 'alice-pw' });
    await bob.s.connect({ jid: 'bob@localhost', ...target, password: 'bob-pw' });
    await alice.s.omemoEnd('bob@localhost');
    await bob.s.omemoEnd('alice@localhost');

    lab.pause();
    const pausedAt = Date.now();
    await until(() => alice.events.some((e) => e.event === 'status' && e.status === 'reconnecting'), 15_000, 'dead link noticed', alice.events);
    const noticedAfter = Date.now() - pausedAt;
    expect(noticedAfter).toBeLessThan(5_000);
    expect(alice.s.isConnected()).toBe(false);
    lab.resume();
    await until(() => alice.s.isConnected(), 60_000, 'alice back online', alice.events);
    await until(() => bob.s.isConnected(), 60_000, 'bob online', bob.events);

    await bob.s.sendMessage('alice@localhost', 'after the silence');
    await until(() => alice.events.some((e) => e.event === 'message' && e.body === 'after the silence'), 30_000, 'message after the silence', alice.events);
    await alice.s.sendMessage('bob@localhost', 'heard you');
    await until(() => bob.events.some((e) => e.event === 'message' && e.body === 'heard you'), 30_000, 'answer', bob.events);
    await new Promise((r) => setTimeout(r, 1000));
    expect(alice.events.filter((e) => e.event === 'message' && e.body === 'after the silence')).toHaveLength(1);
    const onlines = alice.events.filter((e) => e.event === 'status' && e.status === 'online');
    expect(onlines.length).toBe(2);
    // The dead link was cut without a goodbye, so the server kept the session: it was resumed.
    expect(onlines[1]).toMatchObject({ resumed: true });
  }, 120_000);

  it('a message sent into the dead link, never confirmed by the server, is sent again once on the next connection', async () => {
    const alice = session('alice-pw', { idleMs: 800, timeoutMs: 800 });
    const bob = session('bob-pw', undefined, true);
    const target = { server: lab.host, port: lab.c2sPort, tls: 'force' as const };
    await alice.s.connect({ jid: 'alice@localhost', ...target, password: 'alice-pw' });
    await bob.s.connect({ jid: 'bob@localhost', ...target, password: 'bob-pw' });
    await alice.s.omemoEnd('bob@localhost');
    lab.pause();
    await alice.s.sendMessage('bob@localhost', 'into the silence');
    await until(() => alice.events.some((e) => e.event === 'status' && e.status === 'reconnecting'), 15_000, 'dead link noticed', alice.events);
    // The server dies without ever handling what it had not read; a fresh one comes up.
    await lab.restart(0, { kill: true });
    await until(() => alice.events.some((e) => e.event === 'info' && /1 message the server had not confirmed .* was sent again/.test(e.message)), 60_000, 'resent', alice.events);
    // The restarted server no longer had the session: a new one, not a resumed one.
    expect(alice.events.filter((e) => e.event === 'status' && e.status === 'online').at(-1)).not.toHaveProperty('resumed');
    await until(() => bob.events.some((e) => e.event === 'message' && e.body === 'into the silence'), 60_000, 'bob gets it', bob.events);
    await new Promise((r) => setTimeout(r, 1500));
    expect(bob.events.filter((e) => e.event === 'message' && e.body === 'into the silence')).toHaveLength(1);
  }, 120_000);

  it('a message sent into the dead link goes out once when the session is resumed (the stream resends it, we do not)', async () => {
    const alice = session('alice-pw', { idleMs: 800, timeoutMs: 800 });
    const bob = session('bob-pw', undefined, true);
    const target = { server: lab.host, port: lab.c2sPort, tls: 'force' as const };
    await alice.s.connect({ jid: 'alice@localhost', ...target, password: 'alice-pw' });
    await bob.s.connect({ jid: 'bob@localhost', ...target, password: 'bob-pw' });
    await alice.s.omemoEnd('bob@localhost');
    lab.pause();
    await alice.s.sendMessage('bob@localhost', 'into the pause');
    await until(() => alice.events.some((e) => e.event === 'status' && e.status === 'reconnecting'), 15_000, 'dead link noticed', alice.events);
    lab.resume();
    await until(() => alice.events.some((e) => e.event === 'status' && e.status === 'online' && e.resumed === true), 60_000, 'resumed', alice.events);
    await until(() => bob.events.some((e) => e.event === 'message' && e.body === 'into the pause'), 60_000, 'bob gets it', bob.events);
    await new Promise((r) => setTimeout(r, 1500));
    expect(bob.events.filter((e) => e.event === 'message' && e.body === 'into the pause')).toHaveLength(1);
    expect(alice.events.some((e) => e.event === 'info' && /had not confirmed/.test(e.message))).toBe(false);
  }, 120_000);
});

