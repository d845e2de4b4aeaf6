// Live, at the default keepalive timings: the server is frozen (kill -STOP) for 120 s, as a link
// that goes silent behind a NAT or a suspended laptop's Wi-Fi does. xchat notices within 90 s by
// an unanswered ping, says it is reconnecting, and once the server answers again the session is
// back; the message typed into the silence reaches the contact exactly once. Slow by nature
// (about two and a half minutes); the short-timing variants are in silent-link-live.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { startProsody, type Lab } from '../lab/prosody.js';
import { AccountSession } from '../../src/core/account-session.js';
import { createXmppPort } from '../../src/core/xmpp-port.js';
import type { XchatEvent } from '../../src/core/api.js';
import { fakeDeps } from '../helpers/fake-xmpp.js';
import { HistoryStore } from '../../src/store/history.js';

const canRun = existsSync('/usr/bin/prosody');
if (!canRun && process.env.CI === 'true') throw new Error('CI needs prosody (scripts/install-test-deps)');

async function until(pred: () => boolean, ms: number, what: string, events: XchatEvent[]): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}; last events ${JSON.stringify(events.slice(-6))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!canRun)('a server frozen for 120 s, default timings (live)', () => {
  let lab: Lab;
  const sessions: AccountSession[] = [];

  beforeAll(async () => {
    lab = await startProsody({ name: 'silent-default' });
    await lab.register('alice', 'alice-pw');
    await lab.register('bob', 'bob-pw');
  }, 60_000);

  afterAll(async () => {
    lab?.resume();
    for (const s of sessions) await s.disconnect().catch(() => undefined);
    await lab?.stop();
  });

  function session(password: string) {
    const ca = readFileSync(lab.caFile, 'utf8');
    const events: XchatEvent[] = [];
    const s = new AccountSession(fakeDeps(() => createXmppPort({ ca }), { env: { XCHAT_PASSWORD: password }, history: HistoryStore.open(':memory:') }));
    s.on((e) => events.push(e));
    sessions.push(s);
    return { s, events };
  }

  it('detected within 90 s, replaced when the server is back, the message typed meanwhile delivered once', async () => {
    const alice = session('alice-pw');
    const bob = session('bob-pw');
    const target = { server: lab.host, port: lab.c2sPort, tls: 'force' as const };
    await alice.s.connect({ jid: 'alice@localhost', ...target, password: 'alice-pw' });
    await bob.s.connect({ jid: 'bob@localhost', ...target, password: 'bob-pw' });
    await alice.s.omemoEnd('bob@localhost');

    lab.pause();
    const frozenAt = Date.now();
    await alice.s.sendMessage('bob@localhost', 'typed into the silence');
    await until(() => alice.events.some((e) => e.event === 'status' && e.status === 'reconnecting'), 100_000, 'dead link noticed', alice.events);
    const noticedAfterS = (Date.now() - frozenAt) / 1000;
    expect(noticedAfterS).toBeLessThanOrEqual(90);
    expect(alice.s.isConnected()).toBe(false);
    await new Promise((r) => setTimeout(r, Math.max(0, frozenAt + 120_000 - Date.now())));
    lab.resume();

    await until(() => alice.s.isConnected(), 90_000, 'alice back online', alice.events);
    await until(() => bob.events.some((e) => e.event === 'message' && e.body === 'typed into the silence'), 90_000, 'bob gets it', bob.events);
    await bob.s.sendMessage('alice@localhost', 'you are back');
    await until(() => alice.events.some((e) => e.event === 'message' && e.body === 'you are back'), 30_000, 'answer', alice.events);
    await new Promise((r) => setTimeout(r, 1500));
    expect(bob.events.filter((e) => e.event === 'message' && e.body === 'typed into the silence')).toHaveLength(1);
    expect(alice.events.filter((e) => e.event === 'message' && e.body === 'you are back')).toHaveLength(1);
  }, 300_000);
});
